// Signing in and out against the fake backend: restore without flashing the form, local
// sign-in, the device code flow and its errors, remembered accounts, sign-out.
import { describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { ada, mountApp, settle } from '../support/fake'

const providers = [
  { name: 'local', kind: 'local' as const, label: 'This computer' },
  { name: 'github', kind: 'github' as const, label: 'GitHub' },
]

describe('signing in', () => {
  it('restores the last session showing "Signing in…", never the form', async () => {
    const { wrapper } = await mountApp({ restore: ada, restoreDelayMs: 150 })
    expect(wrapper.find('[data-testid=restoring]').text()).toBe('Signing in…')
    expect(wrapper.find('#sign-in-name').exists()).toBe(false)
    await settle(200)
    expect(wrapper.find('[data-testid=restoring]').exists()).toBe(false)
    expect(wrapper.find('#sign-in-name').exists()).toBe(false)
    expect(wrapper.get('[data-testid=user-list]').text()).toContain('Ada')
  })

  it('offers the local name form, the providers and remembered accounts', async () => {
    const account = {
      id: 'acc-1',
      userId: 'github:1',
      name: 'Octo',
      provider: 'github',
      server: 's',
      lastUsed: 1,
    }
    const { wrapper, fake } = await mountApp({ providers, accounts: [account] })
    expect(wrapper.find('#sign-in-name').exists()).toBe(true)
    expect(wrapper.find('[data-testid=provider-github]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=provider-local]').exists()).toBe(false)
    await wrapper.get('[data-testid=account]').trigger('click')
    await settle()
    expect(fake.args.find((a) => a.cmd === 'sign_in_account')?.args).toEqual({ accountId: 'acc-1' })
    expect(wrapper.get('[data-testid=signed-in-as]').text()).toBe('Signed in as Octo')
  })

  it('signs in with a device code once approved', async () => {
    const { wrapper, fake } = await mountApp({ providers })
    await wrapper.get('[data-testid=provider-github]').trigger('click')
    await settle()
    expect(wrapper.get('[data-testid=user-code]').text()).toBe('WDJB-MJHT')
    await wrapper.get('[data-testid=open-browser]').trigger('click')
    expect(fake.opened).toEqual(['https://github.com/login/device?user_code=WDJB-MJHT'])
    fake.approveDevice()
    await settle()
    expect(wrapper.find('[data-testid=device-code]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=signed-in-as]').text()).toBe('Signed in as Octo Cat')
  })

  for (const [outcome, text] of [
    ['expired', 'The code expired before it was approved.'],
    ['denied', 'Sign-in was refused at the provider.'],
    ['offline', 'Cannot reach the sign-in service.'],
  ] as const) {
    it(`explains a device sign-in that ends ${outcome}`, async () => {
      const { wrapper } = await mountApp({ providers, device: { outcome, afterMs: 10 } })
      await wrapper.get('[data-testid=provider-github]').trigger('click')
      await settle(100)
      expect(wrapper.find('[data-testid=device-code]').exists()).toBe(false)
      expect(wrapper.get('[data-testid=sign-in-notice]').text()).toContain(text)
      expect(wrapper.find('[data-testid=provider-github]').exists()).toBe(true)
    })
  }

  it('cancels a device sign-in', async () => {
    const { wrapper, fake } = await mountApp({ providers })
    await wrapper.get('[data-testid=provider-github]').trigger('click')
    await settle()
    await wrapper.get('[data-testid=cancel-device]').trigger('click')
    await settle()
    expect(fake.calls).toContain('cancel_device_login')
    expect(wrapper.get('[data-testid=sign-in-notice]').text()).toBe('Sign-in cancelled.')
    expect(wrapper.get('[data-testid=sign-in-notice]').classes()).toContain('is-info')
  })

  it('goes back to sign-in, saying why, when Rust signs the user out', async () => {
    const { wrapper, fake } = await mountApp({ restore: ada })
    fake.emit({ type: 'signedOut', data: { reason: 'the provider refused the saved sign-in' } })
    await settle()
    expect(wrapper.find('[data-testid=user-list]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=sign-in-notice]').text()).toBe(
      'You were signed out: the provider refused the saved sign-in',
    )
  })

  it('signs out from the settings, forgetting the account when asked', async () => {
    const { wrapper, fake } = await mountApp({ restore: ada })
    await wrapper.get('[data-testid=open-settings]').trigger('click')
    await wrapper.get('[data-testid=forget]').setValue(true)
    await wrapper.get('[data-testid=sign-out]').trigger('click')
    await settle()
    expect(fake.args.find((a) => a.cmd === 'sign_out')?.args).toEqual({ forget: true })
    expect(wrapper.find('#sign-in-name').exists()).toBe(true)
    await flushPromises()
  })
})
