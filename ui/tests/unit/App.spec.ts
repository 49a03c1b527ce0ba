import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import App from '../../src/App.vue'
import type { AppStatus } from '../../src/types'

const healthy: AppStatus = {
  appVersion: '0.1.0',
  backendUrl: 'http://127.0.0.1:5000',
  backendMode: 'embedded',
  backend: { status: 'ok', service: 'chatr-backend', version: '0.1.0' },
}

afterEach(() => clearMocks())

describe('App', () => {
  it('asks Rust for the status on start and shows it', async () => {
    const calls: string[] = []
    mockIPC((cmd) => {
      calls.push(cmd)
      if (cmd === 'get_app_status') return healthy
      throw new Error(`unexpected command ${cmd}`)
    })
    const wrapper = mount(App)
    await flushPromises()
    // The status is asked for exactly once (the other calls are the sign-in view's and the
    // settings', which this mock refuses).
    expect(calls.filter((c) => c === 'get_app_status')).toEqual(['get_app_status'])
    expect(wrapper.get('[data-testid=app-name]').text()).toBe('Chatr')
    expect(wrapper.get('[data-testid=status-line]').attributes('data-state')).toBe('ready')
    expect(wrapper.text()).toContain('Embedded backend at http://127.0.0.1:5000 is up')
  })

  it('shows a failed command and recovers on retry', async () => {
    let attempts = 0
    mockIPC((cmd) => {
      if (cmd !== 'get_app_status') throw new Error(`not mocked here: ${cmd}`)
      attempts += 1
      if (attempts === 1) {
        throw { kind: 'backendUnreachable', message: 'backend at http://x is unreachable' }
      }
      return healthy
    })
    const wrapper = mount(App)
    await flushPromises()
    expect(wrapper.text()).toContain('Backend unreachable: backend at http://x is unreachable')

    await wrapper.get('[data-testid=status-line] button').trigger('click')
    await flushPromises()
    expect(attempts).toBe(2)
    expect(wrapper.get('[data-testid=status-line]').attributes('data-state')).toBe('ready')
  })
})
