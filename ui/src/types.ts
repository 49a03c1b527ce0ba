// Types that mirror the Rust side (chatr-protocol and the desktop commands). Keep in step with Rust.

/** `chatr_protocol::Health`: the body of `GET /api/health`. */
export interface Health {
  status: 'ok' | 'degraded'
  service: string
  version: string
}

/** Where the backend comes from. */
export type BackendMode = 'embedded' | 'remote'

/** `get_app_status`: this app's version and the backend's health, asked just now. */
export interface AppStatus {
  appVersion: string
  backendUrl: string
  backendMode: BackendMode
  backend: Health
}

/** The error every command returns. */
export interface CommandError {
  kind: string
  message: string
}
