import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import App from '../../src/App.vue'
import type { Message } from '../../src/types'

afterEach(() => clearMocks())

const ada = { id: 'local:ada', name: 'Ada', provider: 'local', presence: 'online' }
const chat = { id: 'c1', name: 'Rust', kind: 'group', owner: 'local:ada', createdAt: 1 }

describe('the chat flow against mocked Rust commands', () => {
  it('signs in, creates a chat, sends, and shows pushed messages once', async () => {
    const calls: Array<[string, unknown]> = []
    let seq = 0
    mockIPC(
      (cmd, args) => {
        calls.push([cmd, args])
        switch (cmd) {
          case 'get_app_status':
            return {
              appVersion: '0.1.0',
              backendUrl: 'http://127.0.0.1:1',
              backendMode: 'embedded',
              backend: { status: 'ok', service: 'chatr-backend', version: '0.1.0' },
            }
          case 'restore_session':
            return null
          case 'list_providers':
            return [{ name: 'local', kind: 'local', label: 'This computer' }]
          case 'list_accounts':
            return []
          case 'get_settings':
          case 'set_active_chat':
          case 'send_typing':
            return null
          case 'sign_in_local':
            return ada
          case 'list_chats':
            return []
          case 'list_users':
            return [ada]
          case 'create_chat':
            return chat
          case 'load_history':
            return []
          case 'send_message': {
            const a = args as { chatId: string; clientKey: string; text: string }
            seq += 1
            return {
              chatId: a.chatId,
              seq,
              from: ada.id,
              text: a.text,
              sentAt: 1,
              clientKey: a.clientKey,
            }
          }
          default:
            throw new Error(`unexpected ${cmd}`)
        }
      },
      { shouldMockEvents: true },
    )
    const wrapper = mount(App, { attachTo: document.body })
    await flushPromises()
    await wrapper.get('#sign-in-name').setValue('Ada')
    await wrapper.get('[data-testid=sign-in]').trigger('submit')
    await flushPromises()
    expect(calls.find(([c]) => c === 'sign_in_local')?.[1]).toEqual({ name: 'Ada' })
    expect(wrapper.get('[data-testid=user-list]').text()).toContain('Ada')

    // New chat opens the create dialog; its form submits the name.
    await wrapper.get('[data-testid=open-new-chat]').trigger('click')
    await wrapper.get('[data-testid=new-chat-name]').setValue('Rust')
    await wrapper.get('[data-testid=new-chat-name]').element.closest('form')!.requestSubmit()
    await flushPromises()
    expect(wrapper.get('[data-testid=message-pane]').text()).toContain('Rust')

    await wrapper.get('[data-testid=composer]').setValue('<img src=x onerror=alert(1)>')
    await wrapper.get('[data-testid=composer]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    const lines = wrapper.findAll('[data-testid=message]')
    expect(lines).toHaveLength(1)
    expect(lines[0].text()).toContain('<img src=x onerror=alert(1)>')
    expect(wrapper.find('[data-testid=message] img').exists()).toBe(false)

    // The same message pushed by the server does not show twice; a new one does.
    const echo: Message = {
      chatId: 'c1',
      seq: 1,
      from: ada.id,
      text: '<img src=x onerror=alert(1)>',
      sentAt: 1,
      clientKey: 'x',
    }
    await emit('chatr://ui', {
      type: 'server',
      data: { chatEvent: 'message', data: { message: echo } },
    })
    await emit('chatr://ui', {
      type: 'server',
      data: {
        chatEvent: 'message',
        data: { message: { ...echo, seq: 2, text: 'second', from: 'local:bob' } },
      },
    })
    await flushPromises()
    expect(wrapper.findAll('[data-testid=message]').map((l) => l.text())).toEqual([
      expect.stringContaining('<img'),
      expect.stringContaining('second'),
    ])
  })
})
