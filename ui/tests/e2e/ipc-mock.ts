// Runs in the page before the app (bundled to an IIFE by global-setup.ts): answers the app's
// `invoke` calls with the fake backend (fake-backend.ts), built from the scenario the test put
// in `window.__CHATR_MOCK__`, and delivers its events on `chatr://ui` through the mocked event
// plugin. Tests reach the fake as `window.__CHATR_FAKE__`.
import { mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import { FakeBackend, type MockScenario } from './fake-backend'
import type { UiEvent } from '../../src/types'

export type { MockScenario } from './fake-backend'

declare global {
  interface Window {
    __CHATR_MOCK__?: MockScenario
    __CHATR_CALLS__: string[]
    __CHATR_FAKE__: FakeBackend
  }
}

const scenario = window.__CHATR_MOCK__
if (!scenario) throw new Error('no mock scenario set')
const fake = new FakeBackend(scenario)
fake.emit = (event: UiEvent) => void emit('chatr://ui', event)
window.__CHATR_FAKE__ = fake
window.__CHATR_CALLS__ = fake.calls

mockIPC((cmd, args) => fake.handle(cmd, (args ?? {}) as Record<string, unknown>), {
  shouldMockEvents: true,
})
