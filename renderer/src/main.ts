import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createDefaultBridge, setBridge } from './bridge';
import './styles/base.css';

setBridge(createDefaultBridge());
createApp(App).use(createPinia()).mount('#app');
