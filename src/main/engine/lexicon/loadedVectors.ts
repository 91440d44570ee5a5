import type { WordVectors } from './wordVectors'

/**
 * Vector files loaded in this process, by path: a table is 100+ MB, so every Lexicon (one per
 * pack, or one per search in a long-lived app) shares one copy. A failed load is forgotten, so
 * the next call tries again.
 */
const loaded = new Map<string, Promise<WordVectors | null>>()

export function loadOnce(path: string, load: () => Promise<WordVectors | null>): Promise<WordVectors | null> {
  let promise = loaded.get(path)
  if (!promise) {
    promise = load()
    loaded.set(path, promise)
    const mine = promise
    mine.catch(() => {
      if (loaded.get(path) === mine) loaded.delete(path)
    })
  }
  return promise
}

/** Drops a path whose file was just replaced. */
export function forgetLoaded(path: string): void {
  loaded.delete(path)
}
