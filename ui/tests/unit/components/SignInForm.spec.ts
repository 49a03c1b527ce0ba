import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import SignInForm from '../../../src/components/SignInForm.vue'

describe('SignInForm', () => {
  it('submits the trimmed name and not a blank one', async () => {
    const wrapper = mount(SignInForm, { props: { busy: false, error: null } })
    const button = wrapper.get('button')
    expect(button.attributes('disabled')).toBeDefined()
    await wrapper.get('input').setValue('   ')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('submit')).toBeUndefined()
    await wrapper.get('input').setValue('  Ada  ')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('submit')).toEqual([['Ada']])
  })

  it('shows the error as text', () => {
    const wrapper = mount(SignInForm, { props: { busy: false, error: '<b>nope</b>' } })
    expect(wrapper.get('[role=alert]').text()).toBe('<b>nope</b>')
    expect(wrapper.find('[role=alert] b').exists()).toBe(false)
  })
})
