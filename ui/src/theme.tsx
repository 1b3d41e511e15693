import { CssBaseline, ThemeProvider, createTheme, useMediaQuery } from '@mui/material';
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';

type Mode = 'light' | 'dark';
const STORE = 'aigne-hub.color-mode';

const ColorMode = createContext<{ mode: Mode; toggle: () => void }>({ mode: 'light', toggle: () => {} });

export const useColorMode = () => useContext(ColorMode);

/** Light and dark themes; the system's preference until the user picks one (kept locally). */
export function ColorModeProvider({ children }: { children: ReactNode }) {
  const prefersDark = useMediaQuery('(prefers-color-scheme: dark)');
  const [picked, setPicked] = useState<Mode | null>(() => (localStorage.getItem(STORE) as Mode | null) ?? null);
  const mode: Mode = picked ?? (prefersDark ? 'dark' : 'light');
  const theme = useMemo(
    () =>
      createTheme({
        palette: { mode, primary: { main: mode === 'dark' ? '#7aa2ff' : '#3157d5' } },
        shape: { borderRadius: 8 },
        components: { MuiButton: { defaultProps: { disableElevation: true } } },
      }),
    [mode],
  );
  const value = useMemo(
    () => ({
      mode,
      toggle: () => {
        const next: Mode = mode === 'dark' ? 'light' : 'dark';
        localStorage.setItem(STORE, next);
        setPicked(next);
      },
    }),
    [mode],
  );
  return (
    <ColorMode.Provider value={value}>
      <ThemeProvider theme={theme}>
        <CssBaseline />
        {children}
      </ThemeProvider>
    </ColorMode.Provider>
  );
}
