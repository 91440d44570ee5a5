import { onBeforeUnmount, onMounted } from 'vue'

export interface Shortcut {
  /** As KeyboardEvent.key, with an "Alt+" prefix where Alt is held. */
  key: string
  description: string
  run: () => void
}

/** The whole window's keys, listed in the shortcuts dialog. None fires while typing in a field. */
export function useShortcuts(shortcuts: () => Shortcut[]): void {
  const onKey = (event: KeyboardEvent) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey) return
    const target = event.target as HTMLElement | null
    const typing = !!target && (['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) || target.isContentEditable)
    if (typing) return
    // A dialog handles its own keys.
    if (target?.closest('[role="dialog"]')) return
    const key = `${event.altKey ? 'Alt+' : ''}${event.key}`
    const match = shortcuts().find((s) => s.key === key)
    if (!match) return
    event.preventDefault()
    match.run()
  }
  onMounted(() => window.addEventListener('keydown', onKey))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey))
}
