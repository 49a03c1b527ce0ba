import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ChatCreateModal from '../../../src/components/ChatCreateModal.vue'

const mountIt = () =>
  mount(ChatCreateModal, { props: { open: true, busy: false }, attachTo: document.body })

describe('ChatCreateModal', () => {
  it('emits the trimmed name', async () => {
    const wrapper = mountIt()
    await wrapper.get('[data-testid=new-chat-name]').setValue('  Rust  ')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('create')).toEqual([['Rust']])
  })

  it('refuses an empty name and says why', async () => {
    const wrapper = mountIt()
    expect(wrapper.find('.help.is-danger').exists()).toBe(false)
    await wrapper.get('[data-testid=new-chat-name]').setValue('   ')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('create')).toBeUndefined()
    expect(wrapper.get('.help').text()).toBe('A chat needs a name.')
    expect(wrapper.get('input').attributes('aria-invalid')).toBe('true')
  })

  it('refuses more than 50 characters', async () => {
    const wrapper = mountIt()
    await wrapper.get('[data-testid=new-chat-name]').setValue('x'.repeat(51))
    expect(wrapper.get('.help').text()).toBe('A chat name can have at most 50 characters.')
    expect(wrapper.get('[data-testid=new-chat]').attributes('disabled')).toBeDefined()
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('create')).toBeUndefined()
    await wrapper.get('[data-testid=new-chat-name]').setValue('x'.repeat(50))
    expect(wrapper.get('.help').text()).toBe('50 / 50')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('create')).toEqual([['x'.repeat(50)]])
  })

  it('starts empty each time it opens', async () => {
    const wrapper = mountIt()
    await wrapper.get('[data-testid=new-chat-name]').setValue('draft')
    await wrapper.setProps({ open: false })
    await wrapper.setProps({ open: true })
    expect((wrapper.get('[data-testid=new-chat-name]').element as HTMLInputElement).value).toBe('')
  })
})
