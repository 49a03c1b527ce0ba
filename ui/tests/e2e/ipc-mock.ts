// Runs in the page before the app: answers the app's `invoke` calls the way the Rust side would,
// from a scenario the test put in `window.__CHATR_MOCK__`.
import { mockIPC } from '@tauri-apps/api/mocks'
import type { AppStatus } from '../../src/types'

export interface MockScenario {
  appStatus: AppStatus
  /** How many `get_app_status` calls fail before one succeeds. */
  failStatusTimes?: number
}

declare global {
  interface Window {
    __CHATR_MOCK__?: MockScenario
    __CHATR_CALLS__: string[]
  }
}

const scenario = window.__CHATR_MOCK__
window.__CHATR_CALLS__ = []
let statusCalls = 0

mockIPC((cmd) => {
  window.__CHATR_CALLS__.push(cmd)
  if (!scenario) throw new Error('no mock scenario set')
  if (cmd === 'get_app_status') {
    statusCalls += 1
    if (statusCalls <= (scenario.failStatusTimes ?? 0)) {
      throw { kind: 'backendUnreachable', message: 'backend at http://127.0.0.1:9 is unreachable' }
    }
    return scenario.appStatus
  }
  throw new Error(`unexpected command ${cmd}`)
})
