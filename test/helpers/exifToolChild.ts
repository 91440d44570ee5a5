/**
 * A stand-in for the app in the ExifTool-orphan test: reads the file named on the command line
 * through the app's ExifTool, says so, and waits to be killed.
 */
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'

const [result] = await new ExifToolRunner().read([process.argv[2]])
process.stdout.write(result.tags ? 'read\n' : `failed: ${result.errors.join('; ')}\n`)
setInterval(() => {}, 60_000)
