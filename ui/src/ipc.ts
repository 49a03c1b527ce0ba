// The only module that talks to the Rust side. Components and composables call these typed
// functions; tests mock the IPC layer underneath (`@tauri-apps/api/mocks`).
import { invoke } from '@tauri-apps/api/core'
import type { AppStatus, CommandError } from './types'

/** Turns whatever a failed `invoke` threw into a `CommandError`. */
export function toCommandError(err: unknown): CommandError {
  if (typeof err === 'object' && err !== null && 'kind' in err && 'message' in err) {
    return { kind: String(err.kind), message: String(err.message) }
  }
  return { kind: 'ipc', message: err instanceof Error ? err.message : String(err) }
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args)
  } catch (err) {
    throw toCommandError(err)
  }
}

/** The app's version and the backend's health (asks the backend over HTTP each time). */
export function getAppStatus(): Promise<AppStatus> {
  return call<AppStatus>('get_app_status')
}
