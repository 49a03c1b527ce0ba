// The small feedback components: connection banner, error notice, toasts, the private chat
// popup, the typing line, and the sign-in lists.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import AppErrorNotice from '../../../src/components/AppErrorNotice.vue'
import AppToasts from '../../../src/components/AppToasts.vue'
import ChatInvitePopup from '../../../src/components/ChatInvitePopup.vue'
import ConnectionBanner from '../../../src/components/ConnectionBanner.vue'
import MessageTyping from '../../../src/components/MessageTyping.vue'
import SignInAccounts from '../../../src/components/SignInAccounts.vue'
import SignInProviders from '../../../src/components/SignInProviders.vue'

describe('ConnectionBanner', () => {
  it('is hidden while connected', () => {
    expect(
      mount(ConnectionBanner, { props: { state: 'connected', detail: null } }).html(),
    ).not.toContain('notification')
  })

  it('says connecting, reconnecting (with the attempt) and offline (with why)', async () => {
    const wrapper = mount(ConnectionBanner, { props: { state: 'connecting', detail: null } })
    expect(wrapper.get('[role=status]').text()).toBe('Connecting…')
    await wrapper.setProps({ state: 'reconnecting', detail: '3' })
    expect(wrapper.text()).toBe('Connection lost, reconnecting (attempt 3)…')
    await wrapper.setProps({ state: 'closed', detail: 'network down' })
    expect(wrapper.text()).toContain('Offline (network down)')
    expect(wrapper.get('[data-testid=connection-banner]').classes()).toContain('is-danger')
  })
})

describe('AppErrorNotice', () => {
  it('shows the message as text and can be dismissed', async () => {
    const wrapper = mount(AppErrorNotice, {
      props: { error: { kind: 'x', message: '<img src=x onerror=alert(1)>' } },
    })
    expect(wrapper.find('img').exists()).toBe(false)
    expect(wrapper.get('[role=alert]').text()).toContain('<img src=x onerror=alert(1)>')
    await wrapper.get('button').trigger('click')
    expect(wrapper.emitted('dismiss')).toHaveLength(1)
  })
})

describe('AppToasts', () => {
  it('shows each toast in its colour, dismissible', async () => {
    const wrapper = mount(AppToasts, {
      props: { toasts: [{ id: 1, text: '🤩 Bob has just joined', tone: 'success' }] },
    })
    expect(wrapper.get('[data-testid=toast]').classes()).toContain('is-success')
    expect(wrapper.text()).toContain('Bob has just joined')
    await wrapper.get('button').trigger('click')
    expect(wrapper.emitted('dismiss')).toEqual([[1]])
  })
})

describe('ChatInvitePopup', () => {
  it('offers Open and Later for each incoming private chat', async () => {
    const chat = { id: 'p', name: 'Bob', kind: 'private' as const, owner: 'b', createdAt: 1 }
    const wrapper = mount(ChatInvitePopup, { props: { invites: [chat] } })
    expect(wrapper.text()).toContain('💬 Incoming: Chat with Bob')
    await wrapper.get('[data-testid=invite-open]').trigger('click')
    await wrapper.findAll('button')[1].trigger('click')
    expect(wrapper.emitted('open')).toEqual([['p']])
    expect(wrapper.emitted('later')).toEqual([['p']])
  })
})

describe('MessageTyping', () => {
  it('says who is typing, and keeps its line when nobody is', async () => {
    const wrapper = mount(MessageTyping, { props: { names: ['Bob'] } })
    expect(wrapper.text()).toBe('Bob is typing…')
    await wrapper.setProps({ names: [] })
    expect(wrapper.find('[data-testid=typing]').exists()).toBe(true)
    expect(wrapper.text()).toBe('')
  })
})

describe('sign-in lists', () => {
  it('offers each provider and each remembered account', async () => {
    const providers = mount(SignInProviders, {
      props: { providers: [{ name: 'github', kind: 'github', label: 'GitHub' }], busy: false },
    })
    await providers.get('[data-testid=provider-github]').trigger('click')
    expect(providers.emitted('choose')).toEqual([
      [{ name: 'github', kind: 'github', label: 'GitHub' }],
    ])
    const account = {
      id: 'acc',
      userId: 'github:1',
      name: 'Ada',
      provider: 'github',
      server: 's',
      lastUsed: 1,
    }
    const accounts = mount(SignInAccounts, { props: { accounts: [account], busy: false } })
    expect(accounts.get('[data-testid=account]').attributes('aria-label')).toBe(
      'Continue as Ada (GitHub)',
    )
    await accounts.get('[data-testid=account]').trigger('click')
    expect(accounts.emitted('choose')).toEqual([[account]])
  })
})
