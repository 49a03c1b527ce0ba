// Messages against the fake backend: pending until stored, failed with Retry (same clientKey),
// each message once, history pages, typing, announcements, keyboard shortcuts.
import { describe, expect, it, vi } from 'vitest'
import { ada, bob, mountApp, settle } from '../support/fake'
import type { MockScenario } from '../../e2e/fake-backend'
import type { VueWrapper } from '@vue/test-utils'

const scenario: Partial<MockScenario> = {
  restore: ada,
  users: [bob],
  chats: [
    {
      id: 'rust',
      name: 'Rust',
      kind: 'group',
      owner: ada.id,
      createdAt: 1,
      members: [ada.id, bob.id],
    },
  ],
}

async function openRust(extra: Partial<MockScenario> = {}) {
  const app = await mountApp({ ...scenario, ...extra })
  await app.wrapper.get('[data-testid=tab-rust]').trigger('click')
  await settle()
  return app
}

async function type(wrapper: VueWrapper, text: string, send = true) {
  const box = wrapper.get('[data-testid=composer]')
  await box.setValue(text)
  if (send) await box.trigger('keydown', { key: 'Enter' })
}

const lines = (wrapper: VueWrapper) => wrapper.findAll('[data-testid=message]')

describe('messages', () => {
  it('shows my message pending, then stored, exactly once', async () => {
    const { wrapper, fake } = await openRust({ sendDelayMs: 400 })
    await type(wrapper, 'hello')
    await settle(0)
    expect(lines(wrapper)).toHaveLength(1)
    expect(lines(wrapper)[0].attributes('data-status')).toBe('sending')
    await vi.waitFor(() => expect(lines(wrapper)[0].attributes('data-status')).toBe('sent'), {
      timeout: 3000,
    })
    await settle()
    expect(lines(wrapper)).toHaveLength(1)
    expect(lines(wrapper)[0].attributes('data-seq')).toBe('1')
    expect(lines(wrapper)[0].classes()).toContain('mine')
    expect(fake.messages.get('rust')).toHaveLength(1)
  })

  it('marks a failed message and retries it with the same clientKey', async () => {
    const { wrapper, fake } = await openRust({ sendFailures: { count: 1, kind: 'offline' } })
    await type(wrapper, 'are you there?')
    await vi.waitFor(() => expect(lines(wrapper)[0].attributes('data-status')).toBe('failed'), {
      timeout: 3000,
    })
    expect(lines(wrapper)[0].text()).toContain('Not sent: The server cannot be reached.')
    await wrapper.get('[data-testid=retry]').trigger('click')
    await vi.waitFor(() => expect(lines(wrapper)[0].attributes('data-status')).toBe('sent'), {
      timeout: 3000,
    })
    await settle()
    const sends = fake.args.filter((a) => a.cmd === 'send_message').map((a) => a.args)
    expect(sends).toHaveLength(2)
    expect(sends[1].clientKey).toBe(sends[0].clientKey)
    expect(lines(wrapper)).toHaveLength(1)
  })

  it('shows a pushed message once even when it is pushed twice', async () => {
    const { wrapper, fake } = await openRust()
    const m = fake.say('rust', bob.id, 'hi Ada')
    fake.server({ chatEvent: 'message', data: { message: m } })
    await settle()
    expect(lines(wrapper).map((l) => l.text())).toEqual([expect.stringContaining('hi Ada')])
  })

  it('renders hostile text inert', async () => {
    const { wrapper, fake } = await openRust()
    fake.say(
      'rust',
      bob.id,
      '<img src=x onerror=alert(1)> <script>alert(2)</script> [x](javascript:alert(3))',
    )
    await settle()
    expect(wrapper.find('[data-testid=message] img').exists()).toBe(false)
    expect(wrapper.find('[data-testid=message] script').exists()).toBe(false)
    expect(wrapper.html()).not.toMatch(/href="javascript/i)
    expect(lines(wrapper)[0].text()).toContain('<img src=x onerror=alert(1)>')
  })

  it('opens links in the system browser', async () => {
    const { wrapper, fake } = await openRust()
    fake.say('rust', bob.id, 'see https://example.com/docs')
    await settle()
    await wrapper.get('[data-testid=message] a').trigger('click')
    await settle(5)
    expect(fake.opened).toEqual(['https://example.com/docs'])
  })

  it('loads older pages with before = the oldest seq', async () => {
    const { wrapper, fake } = await mountApp({
      ...scenario,
      bigChat: { id: 'big', name: 'Big', count: 120 },
      pageSize: 50,
    })
    await wrapper.get('[data-testid=chat-big]').trigger('click')
    await settle()
    const scroller = wrapper.get('[data-testid=message-list]')
    ;(scroller.element as HTMLElement).scrollTop = 0
    await scroller.trigger('scroll')
    await settle()
    const pages = fake.args
      .filter((a) => a.cmd === 'load_history' && a.args.chatId === 'big')
      .map((a) => a.args.before)
    expect(pages.slice(0, 2)).toEqual([null, 71])
  })

  it('shows who is typing, and a message from them ends it', async () => {
    const { wrapper, fake } = await openRust()
    fake.typing('rust', bob.id)
    fake.typing('rust', ada.id)
    await settle(5)
    expect(wrapper.get('[data-testid=typing]').text()).toBe('Bob is typing…')
    fake.say('rust', bob.id, 'done')
    await settle(5)
    expect(wrapper.get('[data-testid=typing]').text()).toBe('')
  })

  it('tells others I am typing at most every 3 s', async () => {
    const { wrapper, fake } = await openRust()
    for (const text of ['h', 'he', 'hel', 'hell', 'hello']) await type(wrapper, text, false)
    expect(fake.args.filter((a) => a.cmd === 'send_typing').map((a) => a.args)).toEqual([
      { chatId: 'rust' },
    ])
  })

  it('announces new messages from others in the open chat', async () => {
    const { wrapper, fake } = await openRust()
    fake.say('rust', bob.id, 'ping')
    await settle()
    expect(wrapper.get('[data-testid=announcer]').text()).toBe('Bob: ping')
    expect(wrapper.get('[data-testid=announcer]').attributes('aria-live')).toBe('polite')
  })

  it('writes joined and left lines, never about myself', async () => {
    const { wrapper, fake } = await openRust()
    const cy = { id: 'local:cy', name: 'Cy', provider: 'local', presence: 'online' as const }
    fake.server({ chatEvent: 'memberJoined', data: { chatId: 'rust', user: cy } })
    fake.server({ chatEvent: 'memberJoined', data: { chatId: 'rust', user: ada } })
    fake.server({ chatEvent: 'memberLeft', data: { chatId: 'rust', userId: bob.id } })
    await settle()
    expect(wrapper.findAll('[data-testid=system-line]').map((l) => l.text())).toEqual([
      '💬 Cy has joined the chat',
      '💨 Bob has left the chat',
    ])
    expect(lines(wrapper)).toHaveLength(0)
  })
})

describe('keyboard', () => {
  it('Ctrl+K opens the switcher; Enter opens the chosen chat', async () => {
    const { wrapper } = await mountApp(scenario)
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true }))
    await settle(5)
    expect(wrapper.find('[data-testid=switcher-filter]').exists()).toBe(true)
    await wrapper.get('[data-testid=switcher-filter]').setValue('ru')
    await wrapper.get('[data-testid=switcher-filter]').trigger('keydown', { key: 'Enter' })
    await settle()
    expect(wrapper.find('[role=dialog]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=tab-rust]').attributes('aria-selected')).toBe('true')
  })

  it('? shows the shortcut list, but not while typing in a field', async () => {
    const { wrapper } = await openRust()
    const box = wrapper.get('[data-testid=composer]').element
    box.dispatchEvent(new KeyboardEvent('keydown', { key: '?', bubbles: true }))
    await settle(5)
    expect(wrapper.find('[data-testid=shortcuts]').exists()).toBe(false)
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '?', bubbles: true }))
    await settle(5)
    expect(wrapper.find('[data-testid=shortcuts]').exists()).toBe(true)
  })

  it('an incoming message never moves focus', async () => {
    const { wrapper, fake } = await openRust()
    const filter = document.createElement('input')
    document.body.appendChild(filter)
    filter.focus()
    fake.say('rust', bob.id, 'hello')
    fake.invite(bob.id)
    await settle()
    expect(document.activeElement).toBe(filter)
    filter.remove()
    expect(wrapper.exists()).toBe(true)
  })
})
