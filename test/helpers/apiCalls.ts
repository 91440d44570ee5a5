import { API_METHODS, type ApiMethod, type SdlTaggerApi } from '../../src/shared/api'

/** One valid argument list per API method, each filling every parameter the contract has (typed, so a new method must be added here). */
export const VALID_ARGS: { [M in ApiMethod]: Parameters<SdlTaggerApi[M]> } = {
  getStatus: [],
  listCatalog: [],
  installModel: ['sdl-nus-wide', { mirror: 'https://mirror.example/sdl/', replace: true }],
  cancelModelInstall: [],
  importModel: [{ checkpointPath: '/models/NUS_mtresnet_224.pth', vocabDir: '/models/vocab', name: 'mine', replace: false }],
  activateModel: ['conse'],
  removeModel: ['conse'],
  listFolders: [],
  addFolder: ['/photos/2024'],
  removeFolder: ['/photos/2024'],
  rescanFolder: ['/photos/2024'],
  startIndexing: [{ folder: '/photos/2024' }],
  cancelIndexing: [],
  getIndexing: [],
  setWatching: [true],
  getMissing: [],
  purgeMissing: [{ olderThanDays: 30 }],
  listPhotos: [{ offset: 200, limit: 200, folder: '/photos/2024' }],
  search: ['dog -cat | "red car"', { limit: 500, all: true, topN: 20 }],
  complete: ['sunset -bea', 8],
  getPhoto: [7, { top: 5, minScore: -0.5 }],
  acceptTag: [7, 'beach'],
  rejectTag: [7, 'beach'],
  addTag: [7, 'Birthday Party'],
  exportXmp: [{ dryRun: true, minScore: 0.2, naming: 'photo.xmp' }],
  getSettings: [],
  updateSettings: [{ theme: 'dark', topN: 5, minScore: null, xmpRoot: 'Tagger' }]
}

/** An API whose every method records the arguments it was called with and answers its own name. */
export function recordingApi(calls: Array<[string, unknown[]]> = []): { api: SdlTaggerApi; calls: Array<[string, unknown[]]> } {
  const api = Object.fromEntries(
    API_METHODS.map((m) => [
      m,
      async (...args: unknown[]) => {
        calls.push([m, args])
        return { ok: true, value: m }
      }
    ])
  ) as unknown as SdlTaggerApi
  return { api, calls }
}
