import { describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import SignInDeviceCode from '../../../src/components/SignInDeviceCode.vue'

const code = {
  provider: 'github',
  userCode: 'WDJB-MJHT',
  verificationUri: 'https://github.com/login/device',
  verificationUriComplete: 'https://github.com/login/device?user_code=WDJB-MJHT',
  expiresAt: Date.now() + 600_000,
}

describe('SignInDeviceCode', () => {
  it('shows the code large, the page, a countdown and the waiting state', () => {
    const wrapper = mount(SignInDeviceCode, { props: { code, providerLabel: 'GitHub' } })
    expect(wrapper.get('[data-testid=user-code]').text()).toBe('WDJB-MJHT')
    expect(wrapper.text()).toContain('Sign in with GitHub')
    expect(wrapper.text()).toContain('https://github.com/login/device')
    expect(wrapper.text()).toMatch(/expires in (9:5\d|10:00)/)
    expect(wrapper.get('[role=status]').text()).toContain('Waiting for you to approve')
  })

  it('opens the complete verification address, or the plain one', async () => {
    const wrapper = mount(SignInDeviceCode, { props: { code, providerLabel: 'GitHub' } })
    await wrapper.get('[data-testid=open-browser]').trigger('click')
    await wrapper.setProps({ code: { ...code, verificationUriComplete: null } })
    await wrapper.get('[data-testid=open-browser]').trigger('click')
    expect(wrapper.emitted('open')).toEqual([
      [code.verificationUriComplete],
      [code.verificationUri],
    ])
  })

  it('copies the code', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined)
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    const wrapper = mount(SignInDeviceCode, { props: { code, providerLabel: 'GitHub' } })
    await wrapper.get('[data-testid=copy-code]').trigger('click')
    await flushPromises()
    expect(writeText).toHaveBeenCalledWith('WDJB-MJHT')
    expect(wrapper.get('[data-testid=copy-code]').text()).toBe('Copied')
  })

  it('cancels', async () => {
    const wrapper = mount(SignInDeviceCode, { props: { code, providerLabel: 'GitHub' } })
    await wrapper.get('[data-testid=cancel-device]').trigger('click')
    expect(wrapper.emitted('cancel')).toHaveLength(1)
  })
})
