import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { ref } from 'vue'
import MessageComposer from '../../../src/components/MessageComposer.vue'

/** The composer with its v-model wired, as the pane uses it. */
function mountComposer(initial = '') {
  const text = ref(initial)
  const wrapper = mount(MessageComposer, {
    props: {
      modelValue: text.value,
      'onUpdate:modelValue': (v: string) => {
        text.value = v
        void wrapper.setProps({ modelValue: v })
      },
    },
  })
  return { wrapper, text }
}

describe('MessageComposer', () => {
  it('sends on Enter and clears', async () => {
    const { wrapper, text } = mountComposer()
    await wrapper.get('textarea').setValue('hello')
    await wrapper.get('textarea').trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('send')).toEqual([['hello']])
    expect(text.value).toBe('')
  })

  it('does not send on Shift+Enter or while an input method composes', async () => {
    const { wrapper } = mountComposer()
    await wrapper.get('textarea').setValue('line one')
    await wrapper.get('textarea').trigger('keydown', { key: 'Enter', shiftKey: true })
    await wrapper.get('textarea').trigger('keydown', { key: 'Enter', isComposing: true })
    expect(wrapper.emitted('send')).toBeUndefined()
  })

  it('never sends blank text', async () => {
    const { wrapper } = mountComposer()
    await wrapper.get('textarea').setValue('  \n ')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('send')).toBeUndefined()
    expect(wrapper.get('[data-testid=send]').attributes('disabled')).toBeDefined()
  })

  it('shows a counter near 4,000 characters and blocks sending above it', async () => {
    const { wrapper } = mountComposer()
    await wrapper.get('textarea').setValue('x'.repeat(100))
    expect(wrapper.get('[data-testid=counter]').text()).toBe('')
    await wrapper.get('textarea').setValue('x'.repeat(3900))
    expect(wrapper.get('[data-testid=counter]').text()).toBe('100 characters left')
    await wrapper.get('textarea').setValue('x'.repeat(4001))
    expect(wrapper.get('[data-testid=counter]').text()).toBe('1 characters over the limit')
    expect(wrapper.get('[data-testid=send]').attributes('disabled')).toBeDefined()
    await wrapper.get('textarea').trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('send')).toBeUndefined()
    await wrapper.get('textarea').setValue('x'.repeat(4000))
    expect(wrapper.get('[data-testid=send]').attributes('disabled')).toBeUndefined()
  })

  it('signals typing when the text changes, not for blank text', async () => {
    const { wrapper } = mountComposer()
    await wrapper.get('textarea').setValue('h')
    await wrapper.get('textarea').setValue('hi')
    await wrapper.get('textarea').setValue('')
    expect(wrapper.emitted('typing')).toHaveLength(2)
  })
})
