import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import SettingsModal from '../../../src/components/SettingsModal.vue'
import type { Settings } from '../../../src/types'

afterEach(() => clearMocks())

function mountWith(answer: (s: Settings) => Settings) {
  const saved: Settings[] = []
  mockIPC((cmd, args) => {
    if (cmd !== 'save_settings') throw new Error(cmd)
    const s = (args as { settings: Settings }).settings
    saved.push(s)
    return answer(s)
  })
  const wrapper = mount(SettingsModal, {
    props: { open: true, signedIn: true },
    attachTo: document.body,
  })
  return { wrapper, saved }
}

describe('SettingsModal', () => {
  it('saves the edited settings and says when a restart is needed', async () => {
    const { wrapper, saved } = mountWith((s) => ({ ...s, restartNeeded: true }))
    await wrapper.get('[data-testid=server-remote]').setValue(true)
    await wrapper.get('[data-testid=server-url]').setValue('https://chat.example.com')
    await wrapper.get('[data-testid=idle-secs]').setValue('120')
    await wrapper.get('[data-testid=dnd]').setValue(true)
    await wrapper.get('[data-testid=theme]').setValue('dark')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(saved).toEqual([
      expect.objectContaining({
        serverUrl: 'https://chat.example.com',
        idleThresholdSecs: 120,
        doNotDisturb: true,
        theme: 'dark',
      }),
    ])
    expect(wrapper.get('[data-testid=settings-result]').text()).toBe(
      'Restart Chatr to use the new server.',
    )
  })

  it('refuses a server address that is not http(s), and an idle time out of range', async () => {
    const { wrapper, saved } = mountWith((s) => s)
    await wrapper.get('[data-testid=server-remote]').setValue(true)
    await wrapper.get('[data-testid=server-url]').setValue('ftp://nope')
    expect(wrapper.text()).toContain('Enter an http:// or https:// address.')
    await wrapper.get('[data-testid=server-url]').setValue('http://ok.example')
    await wrapper.get('[data-testid=idle-secs]').setValue('5')
    expect(wrapper.text()).toContain('Between 10 and 3600 seconds.')
    expect(wrapper.get('[data-testid=save-settings]').attributes('disabled')).toBeDefined()
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(saved).toEqual([])
  })

  it('shows a refused save as text', async () => {
    const { wrapper } = mountWith(() => {
      throw { kind: 'badRequest', message: 'the idle time must be between 10 and 3600 seconds' }
    })
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid=settings-result]').text()).toContain('idle time must be')
  })

  it('signs out, forgetting the account when asked', async () => {
    const { wrapper } = mountWith((s) => s)
    await wrapper.get('[data-testid=forget]').setValue(true)
    await wrapper.get('[data-testid=sign-out]').trigger('click')
    expect(wrapper.emitted('sign-out')).toEqual([[true]])
  })

  it('offers no sign-out when nobody is signed in', () => {
    mockIPC(() => null)
    const wrapper = mount(SettingsModal, { props: { open: true, signedIn: false } })
    expect(wrapper.find('[data-testid=sign-out]').exists()).toBe(false)
  })
})
