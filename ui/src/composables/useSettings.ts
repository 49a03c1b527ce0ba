// The settings (Rust keeps them) and the theme they ask for, applied as Bulma 1's `data-theme`
// on <html>; `system` follows the OS's `prefers-color-scheme` as it changes.
import { ref, watch } from 'vue'
import * as ipc from '../ipc'
import { resolveTheme } from '../lib/theme'
import type { Settings } from '../types'

const defaults: Settings = {
  serverUrl: null,
  idleThresholdSecs: 60,
  notifications: true,
  doNotDisturb: false,
  theme: 'system',
  restartNeeded: false,
}

const settings = ref<Settings>({ ...defaults })
let themeStarted = false

function applyTheme(): void {
  const media = window.matchMedia?.('(prefers-color-scheme: dark)')
  const scheme = resolveTheme(settings.value.theme, media?.matches ?? false)
  document.documentElement.dataset.theme = scheme
}

/** Keeps <html data-theme> in step with the setting and the OS (call once). */
export function startTheme(): void {
  if (themeStarted) return
  themeStarted = true
  applyTheme()
  watch(() => settings.value.theme, applyTheme)
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', applyTheme)
}

/** The settings, loading them, and saving them (the answer may ask for a restart). */
export function useSettings() {
  async function load(): Promise<void> {
    try {
      settings.value = { ...defaults, ...(await ipc.getSettings()) }
    } catch (err) {
      // Defaults are fine to show; the settings view reports a failed save.
      console.warn('chatr: cannot read the settings', err)
    }
  }
  async function save(next: Settings): Promise<Settings> {
    const saved = { ...defaults, ...(await ipc.saveSettings({ ...next, restartNeeded: false })) }
    settings.value = saved
    return saved
  }
  return { settings, load, save }
}
