import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import MessageItem from '../../../src/components/MessageItem.vue'
import type { Pending } from '../../../src/lib/messages'

const message = {
  chatId: 'c',
  seq: 3,
  from: 'bob',
  text: 'hello',
  sentAt: Date.UTC(2026, 0, 1, 12),
  clientKey: 'k',
}
const pending = (status: Pending['status'], error: string | null = null): Pending => ({
  chatId: 'c',
  clientKey: 'key-1',
  text: 'mine',
  createdAt: 0,
  status,
  error,
})

describe('MessageItem', () => {
  it('shows sender and time at the start of a run only', async () => {
    const wrapper = mount(MessageItem, {
      props: {
        row: { kind: 'message', key: 'm-3', message, mine: false, first: true },
        sender: 'Bob',
      },
    })
    expect(wrapper.get('.sender').text()).toBe('Bob')
    expect(wrapper.get('time').attributes('datetime')).toBe('2026-01-01T12:00:00.000Z')
    expect(wrapper.get('[data-testid=message]').attributes('data-status')).toBe('sent')
    await wrapper.setProps({
      row: { kind: 'message', key: 'm-3', message, mine: false, first: false },
    })
    expect(wrapper.find('.sender').exists()).toBe(false)
  })

  it('puts my messages on the right', () => {
    const wrapper = mount(MessageItem, {
      props: {
        row: { kind: 'message', key: 'm-3', message, mine: true, first: true },
        sender: 'Ada',
      },
    })
    expect(wrapper.get('.message-line').classes()).toContain('mine')
  })

  it('shows a pending message with a spinner', () => {
    const wrapper = mount(MessageItem, {
      props: {
        row: { kind: 'pending', key: 'p', pending: pending('sending'), first: true },
        sender: 'Ada',
      },
    })
    expect(wrapper.get('[data-testid=message]').attributes('data-status')).toBe('sending')
    expect(wrapper.find('.chatr-spinner').exists()).toBe(true)
    expect(wrapper.find('[data-testid=retry]').exists()).toBe(false)
  })

  it('offers Retry for a failed message, with its clientKey', async () => {
    const wrapper = mount(MessageItem, {
      props: {
        row: {
          kind: 'pending',
          key: 'p',
          pending: pending('failed', 'The server cannot be reached.'),
          first: true,
        },
        sender: 'Ada',
      },
    })
    expect(wrapper.text()).toContain('Not sent: The server cannot be reached.')
    await wrapper.get('[data-testid=retry]').trigger('click')
    expect(wrapper.emitted('retry')).toEqual([['key-1']])
  })
})
