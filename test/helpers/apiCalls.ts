import { API_METHODS, type ApiMethod, type SdlTaggerApi } from '../../src/shared/api'

/** One valid argument list per API method, each filling every parameter the contract has (typed, so a new method must be added here). */
export const VALID_ARGS: { [M in ApiMethod]: Parameters<SdlTaggerApi[M]> } = {
  getStatus: [],
  listCatalog: [],
  installModel: ['sdl-nus-wide', { mirror: 'https://mirror.example/sdl/', replace: true }],
  cancelModelInstall: [],
  importModel: [{ checkpointPath: '/models/NUS_mtresnet_224.pth', vocabDir: '/models/vocab', name: 'mine', replace: false }],
  addModel: [{ onnxPath: '~/Downloads/conse.onnx', name: 'conse', vocabDir: '/models/vocab', replace: true }],
  activateModel: ['conse'],
  removeModel: ['conse'],
  listFolders: [],
  addFolder: ['/photos/2024'],
  removeFolder: ['/photos/2024'],
  browseFolder: [{ path: '~/Pictures', files: 'models' }],
  rescanFolder: ['/photos/2024'],
  startIndexing: [{ folder: '/photos/2024' }],
  cancelIndexing: [],
  getIndexing: [],
  setWatching: [true],
  getMissing: [],
  purgeMissing: [{ olderThanDays: 30 }],
  listPhotos: [{ offset: 200, limit: 200, folder: '/photos/2024', sort: 'date', dates: 'after:2023-06 before:2024-01-01', sections: true }],
  search: ['dog -cat | "red car"', { limit: 500, all: true, topN: 20 }],
  complete: ['sunset -bea', 8],
  getPhoto: [7, { top: 5, minScore: -0.5 }],
  acceptTag: [7, 'beach'],
  rejectTag: [7, 'beach'],
  addTag: [7, 'Birthday Party'],
  tagPhotos: [{ photos: [7, 8, 9], tag: 'beach', action: 'accept' }],
  undoTagging: [],
  redoTagging: [],
  reviewTags: [],
  reviewTag: ['beach', { offset: 240, limit: 240 }],
  importKeywords: [],
  exportXmp: [{ dryRun: true, photos: [7, 8], minScore: 0.2, for: 'lightroom', embed: true, keepModified: true }],
  getSettings: [],
  updateSettings: [{ theme: 'dark', topN: 5, minScore: null, xmpRoot: 'Tagger', thumbnailSize: 240, showFileNames: true }]
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
