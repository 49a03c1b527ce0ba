// Mounts the whole app against the same fake backend the Playwright tests use
// (tests/e2e/fake-backend.ts), with Tauri's IPC and events mocked.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import { flushPromises, mount } from '@vue/test-utils'
import App from '../../../src/App.vue'
import { useChats } from '../../../src/composables/useChats'
import { useDialogs } from '../../../src/composables/useDialogs'
import { useErrors } from '../../../src/composables/useErrors'
import { useMessages } from '../../../src/composables/useMessages'
import { useToasts } from '../../../src/composables/useToasts'
import { useTyping } from '../../../src/composables/useTyping'
import { FakeBackend, type MockScenario } from '../../e2e/fake-backend'
import type { User } from '../../../src/types'

export const status = {
  appVersion: '0.1.0',
  backendUrl: 'http://127.0.0.1:1',
  backendMode: 'embedded',
  backend: { status: 'ok', service: 'chatr-backend', version: '0.1.0' },
} as const

export const ada: User = { id: 'local:ada', name: 'Ada', provider: 'local', presence: 'online' }
export const bob: User = { id: 'github:7', name: 'Bob', provider: 'github', presence: 'online' }

/** Mounts the app with a fake backend built from `scenario`; returns both. */
export async function mountApp(scenario: Partial<MockScenario> = {}) {
  clearMocks()
  // Composables keep app-wide state in modules: start each test from nothing.
  useChats().reset()
  useMessages().reset()
  useToasts().clear()
  useDialogs().close()
  useErrors().dismiss()
  useTyping().reset()
  const fake = new FakeBackend({ appStatus: status, ...scenario })
  fake.emit = (event) => void emit('chatr://ui', event)
  mockIPC((cmd, args) => fake.handle(cmd, (args ?? {}) as Record<string, unknown>), {
    shouldMockEvents: true,
  })
  const wrapper = mount(App, { attachTo: document.body })
  await settle()
  return { wrapper, fake }
}

/** Lets promises, Vue updates and the fake's short timers run. */
export async function settle(ms = 100): Promise<void> {
  await flushPromises()
  await new Promise((r) => setTimeout(r, ms))
  await flushPromises()
}
