// Owns the app/backend status shown in the status line.
import { ref } from 'vue'
import { getAppStatus, toCommandError } from '../ipc'
import type { StatusState } from '../lib/status'

const state = ref<StatusState>({ kind: 'checking' })

/** Asks the Rust side for the app's and the backend's status; `refresh` asks again. */
export function useAppStatus() {
  async function refresh(): Promise<void> {
    state.value = { kind: 'checking' }
    try {
      state.value = { kind: 'ready', status: await getAppStatus() }
    } catch (err) {
      state.value = { kind: 'failed', error: toCommandError(err) }
    }
  }
  return { state, refresh }
}
