/**
 * Loads (building if need be) the GloVe cache of a data folder in a process of its own and prints
 * {size} as JSON, so a test can run several builders at once.
 * Run as: node --import tsx test/helpers/gloveCacheBuilder.ts <dataDir>
 */
import { loadGloveVectors } from '../../src/main/engine/lexicon/gloveVectors'

const vectors = await loadGloveVectors(process.argv[2])
process.stdout.write(JSON.stringify({ size: vectors.size }) + '\n')
