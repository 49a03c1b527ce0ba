// Which of Bulma's two colour schemes to show. No Vue, no IPC.
import type { Theme } from '../types'

/** The scheme for a theme setting: `system` follows the OS (`prefers-color-scheme`). */
export function resolveTheme(theme: Theme, prefersDark: boolean): 'light' | 'dark' {
  if (theme === 'system') return prefersDark ? 'dark' : 'light'
  return theme
}
