import { watchEffect } from 'vue'
import { store } from '../state/store'

/** Applies the theme setting to <html data-theme>, following the system's choice for "system". */
export function useTheme(): void {
  const dark = window.matchMedia('(prefers-color-scheme: dark)')
  const systemDark = { value: dark.matches }
  const apply = () => {
    const theme = store.settings.theme === 'system' ? (systemDark.value ? 'dark' : 'light') : store.settings.theme
    document.documentElement.dataset.theme = theme
  }
  dark.addEventListener('change', (e) => {
    systemDark.value = e.matches
    apply()
  })
  watchEffect(apply)
}
