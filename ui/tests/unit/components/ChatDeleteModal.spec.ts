import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ChatDeleteModal from '../../../src/components/ChatDeleteModal.vue'

const chat = {
  id: 'c',
  name: '<b>Rust</b>',
  kind: 'group' as const,
  owner: 'me',
  createdAt: 1,
  member: true,
}

describe('ChatDeleteModal', () => {
  it('asks about the named chat (as text) and confirms it', async () => {
    const wrapper = mount(ChatDeleteModal, {
      props: { chat, busy: false },
      attachTo: document.body,
    })
    expect(wrapper.text()).toContain('Delete “<b>Rust</b>”?')
    expect(wrapper.find('.modal-card-body b').exists()).toBe(false)
    await wrapper.get('[data-testid=confirm-delete]').trigger('click')
    expect(wrapper.emitted('confirm')).toEqual([[chat]])
  })

  it('is closed without a chat, and Cancel closes', async () => {
    expect(
      mount(ChatDeleteModal, { props: { chat: null, busy: false } })
        .find('[role=dialog]')
        .exists(),
    ).toBe(false)
    const wrapper = mount(ChatDeleteModal, {
      props: { chat, busy: false },
      attachTo: document.body,
    })
    await wrapper.get('.modal-card-foot button').trigger('click')
    expect(wrapper.emitted('close')).toHaveLength(1)
    expect(wrapper.emitted('confirm')).toBeUndefined()
  })
})
