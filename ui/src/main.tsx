import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';

import App from './App';
import { BASE } from './base';
import { ColorModeProvider } from './theme';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ColorModeProvider>
        <BrowserRouter basename={BASE || undefined}>
          <App />
        </BrowserRouter>
      </ColorModeProvider>
    </StrictMode>,
  );
}
