import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ChatList from '../../../src/components/ChatList.vue'
import type { ChatView } from '../../../src/types'

const chats: ChatView[] = [
  { id: 'a', name: 'Mine', kind: 'group', owner: 'me', createdAt: 1, member: true },
  { id: 'b', name: 'Theirs', kind: 'group', owner: 'bob', createdAt: 2, member: false },
]

describe('ChatList', () => {
  it('offers delete only on chats I own, and Join on chats I am not in', () => {
    const wrapper = mount(ChatList, { props: { chats, activeId: 'a', unread: {}, meId: 'me' } })
    expect(wrapper.find('[data-testid=delete-a]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=delete-b]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=chat-b]').text()).toContain('Join')
    expect(wrapper.get('[data-testid=chat-a]').attributes('aria-current')).toBe('true')
  })

  it('shows unread counts', () => {
    const wrapper = mount(ChatList, {
      props: { chats, activeId: null, unread: { a: 3 }, meId: 'me' },
    })
    expect(wrapper.get('[data-testid=chat-a] .tag.is-danger').text()).toBe('3')
  })

  it('emits open, create and delete', async () => {
    const wrapper = mount(ChatList, { props: { chats, activeId: null, unread: {}, meId: 'me' } })
    await wrapper.get('[data-testid=chat-b]').trigger('click')
    await wrapper.get('[data-testid=open-new-chat]').trigger('click')
    await wrapper.get('[data-testid=delete-a]').trigger('click')
    expect(wrapper.emitted('open')).toEqual([['b']])
    expect(wrapper.emitted('create')).toHaveLength(1)
    expect(wrapper.emitted('delete')).toEqual([[chats[0]]])
  })

  it('says so when there are no chats', () => {
    const wrapper = mount(ChatList, {
      props: { chats: [], activeId: null, unread: {}, meId: 'me' },
    })
    expect(wrapper.text()).toContain('No group chats available. Create a new one!')
  })
})
