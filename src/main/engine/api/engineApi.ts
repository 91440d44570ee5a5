import type { ApiMethod, SdlTaggerApi } from '../../../shared/api'
import type { Engine } from '../engine'
import { validatedApi } from './apiSchemas'
import { EventHub } from './eventHub'
import { LIBRARY_METHODS, LibraryApi } from './libraryApi'
import { MODEL_METHODS, ModelsApi } from './modelsApi'
import { PHOTO_METHODS, PhotosApi } from './photosApi'
import { REVIEW_METHODS, ReviewApi } from './reviewApi'
import { SEARCH_METHODS, SearchApi } from './searchApi'
import { SETTINGS_METHODS, SettingsApi } from './settingsApi'
import { XMP_METHODS, XmpApi } from './xmpApi'

/** Every method of the contract belongs to exactly one area: the compiler checks that none is left out. */
type Covered = (
  typeof MODEL_METHODS | typeof LIBRARY_METHODS | typeof PHOTO_METHODS | typeof REVIEW_METHODS | typeof SEARCH_METHODS | typeof XMP_METHODS | typeof SETTINGS_METHODS
)[number]
const everyMethodCovered: Record<Exclude<ApiMethod, Covered>, never> = {}
void everyMethodCovered

/** The API the windows talk to, plus its events and the start and stop of its background work. */
export type EngineApi = SdlTaggerApi & {
  readonly events: EventHub
  /** Starts what the settings ask for at launch (the daily backup, following the folders). Failures become events, never exceptions. */
  start(): Promise<void>
  /** Stops background work (an install, a running index after its batch, the watcher) and waits for it. */
  stop(): Promise<void>
}

/**
 * The whole SdlTaggerApi over one Engine: the object behind both windows (Electron IPC and web
 * mode's HTTP), so the two can never disagree. It only puts together one thin part per area
 * (models, library, photos and tags, search, XMP, settings) and checks every call's arguments
 * against the contract's schemas first, so the parts work on valid input. Every method answers a
 * Result envelope; long jobs run in the background and report through `events`.
 */
export function createEngineApi(engine: Engine): EngineApi {
  const events = new EventHub()
  const models = new ModelsApi(engine, events)
  const library = new LibraryApi(engine, events, models)
  const api = validatedApi(
    Object.assign(
      {},
      bind(models, MODEL_METHODS),
      bind(library, LIBRARY_METHODS),
      bind(new PhotosApi(engine, events), PHOTO_METHODS),
      bind(new ReviewApi(engine), REVIEW_METHODS),
      bind(new SearchApi(engine), SEARCH_METHODS),
      bind(new XmpApi(engine, events), XMP_METHODS),
      bind(new SettingsApi(engine, events, library), SETTINGS_METHODS)
    ) as SdlTaggerApi
  )
  return {
    ...api,
    events,
    start: () => library.start(),
    stop: async () => {
      models.cancel()
      await library.stop()
    }
  }
}

/** An area's methods of the contract, bound to it. */
function bind<K extends ApiMethod>(area: Pick<SdlTaggerApi, K>, methods: readonly K[]): Pick<SdlTaggerApi, K> {
  return Object.fromEntries(methods.map((m) => [m, (area[m] as (...args: unknown[]) => unknown).bind(area)])) as Pick<SdlTaggerApi, K>
}
