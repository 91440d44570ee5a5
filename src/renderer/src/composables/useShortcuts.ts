import { onBeforeUnmount, onMounted } from 'vue'

export interface Shortcut {
  /** As KeyboardEvent.key, with an "Alt+" prefix where Alt is held; with Ctrl (Cmd on macOS) "Ctrl+", then "Shift+" if held, then the key in lower case. */
  key: string
  description: string
  run: () => void
}

/** The shortcut a key press names: "Ctrl+Shift+z" for Ctrl+Shift+Z (Cmd counts as Ctrl, for macOS). */
function keyName(event: KeyboardEvent): string {
  const alt = event.altKey ? 'Alt+' : ''
  if (!event.ctrlKey && !event.metaKey) return `${alt}${event.key}`
  return `Ctrl+${alt}${event.shiftKey ? 'Shift+' : ''}${event.key.toLowerCase()}`
}

/** The whole window's keys, listed in the shortcuts dialog. None fires while typing in a field (where Ctrl+Z undoes the typing). */
export function useShortcuts(shortcuts: () => Shortcut[]): void {
  const onKey = (event: KeyboardEvent) => {
    if (event.defaultPrevented) return
    const target = event.target as HTMLElement | null
    const typing = !!target && (['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) || target.isContentEditable)
    if (typing) return
    const key = keyName(event)
    // A dialog handles its own keys, but undo and redo reach the photo view too.
    if (!key.startsWith('Ctrl+') && target?.closest('[role="dialog"]')) return
    const match = shortcuts().find((s) => s.key === key)
    if (!match) return
    event.preventDefault()
    match.run()
  }
  onMounted(() => window.addEventListener('keydown', onKey))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey))
}
