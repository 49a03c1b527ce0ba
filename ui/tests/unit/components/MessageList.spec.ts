import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import MessageList from '../../../src/components/MessageList.vue'
import { buildRows } from '../../../src/lib/timeline'
import type { Message } from '../../../src/types'

const start = Date.UTC(2026, 0, 1)
const messages = (n: number): Message[] =>
  Array.from({ length: n }, (_, i) => ({
    chatId: 'c',
    seq: i + 1,
    from: i % 3 === 0 ? 'me' : 'bob',
    text: `message ${i + 1}`,
    sentAt: start + i * 60_000,
    clientKey: `k${i + 1}`,
  }))

function mountList(n: number, extra: Record<string, unknown> = {}) {
  return mount(MessageList, {
    props: {
      rows: buildRows(messages(n), [], [], 'me', start),
      label: 'Messages in c',
      loading: false,
      loaded: true,
      hasMore: true,
      nameOf: (id: string) => (id === 'me' ? 'Ada' : 'Bob'),
      meName: 'Ada',
      ...extra,
    },
    attachTo: document.body,
  })
}

describe('MessageList', () => {
  it('renders only a window of 10,000 messages', async () => {
    const wrapper = mountList(10_000)
    await flushPromises()
    const rendered = wrapper.findAll('[data-testid=message]').length
    expect(rendered).toBeGreaterThan(0)
    expect(rendered).toBeLessThan(60)
  })

  it('renders every row of a short chat, with its day and the start marker', async () => {
    const wrapper = mountList(3, { hasMore: false })
    await flushPromises()
    expect(wrapper.findAll('[data-testid=message]')).toHaveLength(3)
    expect(wrapper.find('[data-testid=day]').exists()).toBe(true)
    expect(wrapper.get('[data-testid=list-top]').text()).toBe('This is the start of the chat.')
  })

  it('says when a chat is empty, and when older messages are loading', async () => {
    const wrapper = mountList(0, { hasMore: false })
    await flushPromises()
    expect(wrapper.get('[data-testid=list-top]').text()).toBe('No messages yet. Say hello!')
    await wrapper.setProps({ loading: true, hasMore: true })
    expect(wrapper.get('[data-testid=list-top]').text()).toBe('Loading older messages…')
  })

  it('asks for older messages when scrolled near the top', async () => {
    const wrapper = mountList(200)
    await flushPromises()
    const scroller = wrapper.get('[data-testid=message-list]')
    ;(scroller.element as HTMLElement).scrollTop = 0
    await scroller.trigger('scroll')
    expect(wrapper.emitted('load-older')?.length).toBeGreaterThan(0)
  })

  it('is a labelled, focusable region of list items', async () => {
    const wrapper = mountList(2)
    await flushPromises()
    const region = wrapper.get('[data-testid=message-list]')
    expect(region.attributes('role')).toBe('region')
    expect(region.attributes('aria-label')).toBe('Messages in c')
    expect(region.attributes('tabindex')).toBe('0')
    expect(wrapper.find('[role=list] [role=listitem]').exists()).toBe(true)
  })
})
