import { createApp } from 'vue'
import 'bulma/css/bulma.min.css'
import App from './App.vue'

createApp(App).mount('#app')
