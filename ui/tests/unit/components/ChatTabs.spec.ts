import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ChatTabs from '../../../src/components/ChatTabs.vue'
import type { ChatView } from '../../../src/types'

const tabs: ChatView[] = [
  { id: 'a', name: 'Alpha', kind: 'group', owner: 'x', createdAt: 1, member: true },
  { id: 'b', name: 'Bob', kind: 'private', owner: 'x', createdAt: 2, member: true },
  { id: 'c', name: 'Gamma', kind: 'group', owner: 'x', createdAt: 3, member: true },
]

describe('ChatTabs', () => {
  it('is a tablist of tabs, the active one selected and focusable', () => {
    const wrapper = mount(ChatTabs, { props: { tabs, activeId: 'b', unread: {} } })
    expect(wrapper.get('ul').attributes('role')).toBe('tablist')
    const tab = wrapper.findAll('[role=tab]')
    expect(tab.map((t) => t.attributes('aria-selected'))).toEqual(['false', 'true', 'false'])
    expect(tab.map((t) => t.attributes('tabindex'))).toEqual(['-1', '0', '-1'])
    expect(tab[1].attributes('aria-controls')).toBe('chat-panel')
  })

  it('shows unread counts as numbers', () => {
    const wrapper = mount(ChatTabs, { props: { tabs, activeId: 'a', unread: { c: 12, b: 0 } } })
    expect(wrapper.findAll('[data-testid=unread]').map((u) => u.text())).toEqual(['12'])
    expect(wrapper.get('[data-testid=unread]').attributes('aria-label')).toBe('12 unread messages')
  })

  it('selects on click and on arrow keys, closes with the close button', async () => {
    const wrapper = mount(ChatTabs, { props: { tabs, activeId: 'a', unread: {} } })
    await wrapper.get('[data-testid=tab-c]').trigger('click')
    await wrapper.get('[data-testid=tab-a]').trigger('keydown', { key: 'ArrowLeft' })
    await wrapper.get('[data-testid=tab-a]').trigger('keydown', { key: 'ArrowRight' })
    await wrapper.get('[data-testid=close-b]').trigger('click')
    expect(wrapper.emitted('select')).toEqual([['c'], ['c'], ['b']])
    expect(wrapper.emitted('close')).toEqual([[tabs[1]]])
  })

  it('renders nothing with no open chats', () => {
    expect(
      mount(ChatTabs, { props: { tabs: [], activeId: null, unread: {} } })
        .find('[role=tablist]')
        .exists(),
    ).toBe(false)
  })
})
