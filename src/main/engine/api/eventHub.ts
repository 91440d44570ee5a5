import type { ApiEvent, ApiEventListener } from '../../../shared/api'

/** Fans the engine's events out to every window (Electron webContents, SSE clients, tests). */
export class EventHub {
  private readonly listeners = new Set<ApiEventListener>()

  subscribe(listener: ApiEventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(event: ApiEvent): void {
    for (const listener of this.listeners) {
      // A window that went away mid-send must not stop the others from hearing about it.
      try {
        listener(event)
      } catch {
        // The transport drops that listener itself when it notices it is closed.
      }
    }
  }

  get size(): number {
    return this.listeners.size
  }
}
