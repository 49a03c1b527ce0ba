// The main view against the fake backend: chats, tabs, unread counts, private chats, toasts.
import { describe, expect, it } from 'vitest'
import { ada, bob, mountApp, settle } from '../support/fake'
import type { MockScenario } from '../../e2e/fake-backend'

const scenario: Partial<MockScenario> = {
  restore: ada,
  users: [bob],
  chats: [
    { id: 'rust', name: 'Rust', kind: 'group', owner: ada.id, createdAt: 1, members: [ada.id] },
    { id: 'go', name: 'Go', kind: 'group', owner: bob.id, createdAt: 2, members: [ada.id, bob.id] },
    { id: 'zig', name: 'Zig', kind: 'group', owner: bob.id, createdAt: 3, members: [] },
  ],
}

const activeCalls = (fake: { args: Array<{ cmd: string; args: Record<string, unknown> }> }) =>
  fake.args.filter((a) => a.cmd === 'set_active_chat').map((a) => a.args.chatId)

describe('chats', () => {
  it('tells Rust the chat on screen each time it changes, and null when none', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    await wrapper.get('[data-testid=tab-rust]').trigger('click')
    await wrapper.get('[data-testid=tab-go]').trigger('click')
    await settle()
    await wrapper.get('[data-testid=close-go]').trigger('click')
    await settle()
    await wrapper.get('[data-testid=close-rust]').trigger('click')
    await settle()
    expect(activeCalls(fake)).toEqual(['rust', 'go', 'rust', null])
    expect(fake.calls.filter((c) => c === 'leave_chat')).toHaveLength(2)
  })

  it('joins a chat from the list and shows it', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    await wrapper.get('[data-testid=chat-zig]').trigger('click')
    await settle()
    expect(fake.args.find((a) => a.cmd === 'join_chat')?.args).toEqual({ chatId: 'zig' })
    expect(wrapper.get('[data-testid=tab-zig]').attributes('aria-selected')).toBe('true')
    expect(wrapper.get('[data-testid=message-pane] h2').text()).toBe('Zig')
  })

  it('shows unread counts from Rust on the tabs', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    await wrapper.get('[data-testid=tab-rust]').trigger('click')
    await settle()
    fake.say('go', bob.id, 'one')
    fake.say('go', bob.id, 'two')
    await settle()
    expect(wrapper.get('[data-testid=tab-go] [data-testid=unread]').text()).toBe('2')
    await wrapper.get('[data-testid=tab-go]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid=tab-go] [data-testid=unread]').exists()).toBe(false)
  })

  it('shows a chat when Rust says a notification was clicked', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    fake.emit({ type: 'openChat', data: { chatId: 'go' } })
    await settle()
    expect(wrapper.get('[data-testid=tab-go]').attributes('aria-selected')).toBe('true')
  })

  it('opens a private chat from the people list, and focuses it again later', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    await wrapper.get(`[data-user="${bob.id}"] a`).trigger('click')
    await settle()
    const id = `private:${[ada.id, bob.id].sort().join('+')}`
    expect(wrapper.get(`[data-testid="tab-${id}"]`).attributes('aria-selected')).toBe('true')
    await wrapper.get('[data-testid=tab-rust]').trigger('click')
    await wrapper.get(`[data-user="${bob.id}"] a`).trigger('click')
    await settle()
    expect(wrapper.findAll(`[data-testid="tab-${id}"]`)).toHaveLength(1)
    expect(wrapper.get(`[data-testid="tab-${id}"]`).attributes('aria-selected')).toBe('true')
    expect(fake.calls.filter((c) => c === 'open_private_chat')).toHaveLength(2)
  })

  it('pops up a private chat someone else opened, with a line in it', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    const chat = fake.invite(bob.id)
    await settle()
    expect(wrapper.get('[data-testid=invite]').text()).toContain('💬 Incoming: Chat with Bob')
    await wrapper.get('[data-testid=invite-open]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid=invite]').exists()).toBe(false)
    expect(wrapper.get(`[data-testid="tab-${chat.id}"]`).attributes('aria-selected')).toBe('true')
    expect(wrapper.get('[data-testid=system-line]').text()).toBe('💬 Bob wants to chat')
  })

  it('toasts others joining, idling and leaving, never myself', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    fake.userJoins({ id: 'local:cy', name: 'Cy', provider: 'local', presence: 'online' })
    fake.presence(bob.id, 'idle')
    fake.server({ chatEvent: 'userIsIdle', data: { userId: ada.id } })
    fake.server({ chatEvent: 'userOnline', data: { user: ada } })
    fake.server({ chatEvent: 'userIsIdle', data: { userId: 'local:ghost' } })
    await settle()
    const toasts = wrapper.findAll('[data-testid=toast]').map((t) => t.text())
    expect(toasts).toEqual(['🤩 Cy has just joined', '💤 User Bob is now idle'])
    expect(wrapper.get(`[data-user="${bob.id}"]`).attributes('data-presence')).toBe('idle')
    expect(wrapper.find('[data-user="local:ghost"]').exists()).toBe(false)
  })

  it('mutes presence toasts in do-not-disturb', async () => {
    const { wrapper, fake } = await mountApp({ ...scenario, settings: { doNotDisturb: true } })
    fake.presence(bob.id, 'idle')
    await settle()
    expect(wrapper.findAll('[data-testid=toast]')).toHaveLength(0)
  })

  it('closes an open chat its owner deleted, with the seed toast', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    await wrapper.get('[data-testid=tab-go]').trigger('click')
    fake.deleteByOwner('go')
    await settle()
    expect(wrapper.find('[data-testid=tab-go]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=chat-go]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=toast]').text()).toBe(
      '💥 Chat deleted by owner, you have been removed!',
    )
    expect(wrapper.get('[data-testid=tab-rust]').attributes('aria-selected')).toBe('true')
  })

  it('deletes my own chat after confirming', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    expect(wrapper.find('[data-testid=delete-go]').exists()).toBe(false)
    await wrapper.get('[data-testid=delete-rust]').trigger('click')
    expect(fake.calls).not.toContain('delete_chat')
    await wrapper.get('[data-testid=confirm-delete]').trigger('click')
    await settle()
    expect(fake.args.find((a) => a.cmd === 'delete_chat')?.args).toEqual({ chatId: 'rust' })
    expect(wrapper.find('[data-testid=chat-rust]').exists()).toBe(false)
    expect(wrapper.findAll('[data-testid=toast]')).toHaveLength(0)
  })

  it('creates a chat from the dialog and shows it', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    await wrapper.get('[data-testid=open-new-chat]').trigger('click')
    await wrapper.get('[data-testid=new-chat-name]').setValue('  Elixir  ')
    ;(wrapper.get('[data-testid=new-chat-name]').element as HTMLInputElement).form!.requestSubmit()
    await settle()
    expect(fake.args.find((a) => a.cmd === 'create_chat')?.args).toEqual({ name: 'Elixir' })
    expect(wrapper.find('[role=dialog]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=message-pane] h2').text()).toBe('Elixir')
    expect(
      wrapper.findAll('[data-testid=chat-list] li').filter((l) => l.text().includes('Elixir')),
    ).toHaveLength(1)
  })

  it('shows a failed action in the error notice without leaving the view', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    fake.chats = fake.chats.filter((c) => c.id !== 'zig')
    await wrapper.get('[data-testid=chat-zig]').trigger('click')
    await settle()
    expect(wrapper.get('[data-testid=error-notice]').text()).toContain('no such chat')
    expect(wrapper.find('[data-testid=user-list]').exists()).toBe(true)
    await wrapper.get('[data-testid=error-notice] button').trigger('click')
    expect(wrapper.find('[data-testid=error-notice]').exists()).toBe(false)
  })

  it('shows the connection banner until connected, and again while reconnecting', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    expect(wrapper.find('[data-testid=connection-banner]').exists()).toBe(false)
    fake.connection('reconnecting', '2')
    await settle(5)
    expect(wrapper.get('[data-testid=connection-banner]').text()).toContain(
      'reconnecting (attempt 2)',
    )
    fake.connection('closed')
    await settle(5)
    expect(wrapper.get('[data-testid=connection-banner]').attributes('data-state')).toBe('closed')
    fake.connection('connected')
    await settle(5)
    expect(wrapper.find('[data-testid=connection-banner]').exists()).toBe(false)
  })
})
