import BarChartIcon from '@mui/icons-material/BarChart';
import ChatIcon from '@mui/icons-material/Chat';
import DarkModeIcon from '@mui/icons-material/DarkMode';
import DashboardIcon from '@mui/icons-material/Dashboard';
import DnsIcon from '@mui/icons-material/Dns';
import KeyIcon from '@mui/icons-material/Key';
import MonitorHeartIcon from '@mui/icons-material/MonitorHeart';
import NotificationsIcon from '@mui/icons-material/Notifications';
import LightModeIcon from '@mui/icons-material/LightMode';
import ListAltIcon from '@mui/icons-material/ListAlt';
import LogoutIcon from '@mui/icons-material/Logout';
import MenuIcon from '@mui/icons-material/Menu';
import PaidIcon from '@mui/icons-material/Paid';
import PersonIcon from '@mui/icons-material/Person';
import SellIcon from '@mui/icons-material/Sell';
import TuneIcon from '@mui/icons-material/Tune';
import WorkspacesIcon from '@mui/icons-material/Workspaces';
import {
  AppBar,
  Box,
  Chip,
  Drawer,
  IconButton,
  List,
  ListItemButton,
  ListItemIcon,
  ListItemText,
  Toolbar,
  Tooltip,
  Typography,
  useMediaQuery,
  useTheme,
} from '@mui/material';
import { useState, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';

import { AuthProvider, useAuth } from './auth';
import { Loading } from './components/common';
import AccessKeys from './pages/AccessKeys';
import CallLog from './pages/CallLog';
import ConnectApproval, { CONNECT_PATH } from './pages/ConnectApproval';
import Credits from './pages/Credits';
import Health from './pages/Health';
import Models from './pages/Models';
import Notifications from './pages/Notifications';
import Overview from './pages/Overview';
import Playground from './pages/Playground';
import Pricing from './pages/Pricing';
import Profile from './pages/Profile';
import Projects from './pages/Projects';
import Providers from './pages/Providers';
import SignIn from './pages/SignIn';
import Usage from './pages/Usage';
import { useColorMode } from './theme';

interface NavItem {
  path: string;
  label: string;
  icon: ReactNode;
  admin?: boolean;
}

const NAV: NavItem[] = [
  { path: '/', label: 'Overview', icon: <DashboardIcon /> },
  { path: '/config/ai-config/providers', label: 'Providers', icon: <DnsIcon />, admin: true },
  { path: '/config/ai-config/models', label: 'Model rates', icon: <TuneIcon />, admin: true },
  { path: '/config/ai-config/health', label: 'Health', icon: <MonitorHeartIcon />, admin: true },
  { path: '/config/usage', label: 'Usage', icon: <BarChartIcon /> },
  { path: '/projects', label: 'Projects', icon: <WorkspacesIcon /> },
  { path: '/calls', label: 'Call log', icon: <ListAltIcon /> },
  { path: '/playground', label: 'Playground', icon: <ChatIcon /> },
  { path: '/credit-usage', label: 'Credits', icon: <PaidIcon /> },
  { path: '/access-keys', label: 'Access keys', icon: <KeyIcon /> },
  { path: '/notifications', label: 'Notifications', icon: <NotificationsIcon /> },
  { path: '/pricing', label: 'Pricing', icon: <SellIcon /> },
  { path: '/profile', label: 'Profile', icon: <PersonIcon /> },
];

const DRAWER = 232;

function Shell() {
  const { info, isAdmin, signOut } = useAuth();
  const { mode, toggle } = useColorMode();
  const theme = useTheme();
  const wide = useMediaQuery(theme.breakpoints.up('md'));
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  const items = NAV.filter((n) => !n.admin || isAdmin);
  const nav = (
    <List component="nav" aria-label="Console pages">
      {items.map((n) => (
        <ListItemButton
          key={n.path}
          selected={n.path === '/' ? location.pathname === '/' : location.pathname.startsWith(n.path)}
          onClick={() => {
            navigate(n.path);
            setOpen(false);
          }}
        >
          <ListItemIcon>{n.icon}</ListItemIcon>
          <ListItemText primary={n.label} />
        </ListItemButton>
      ))}
    </List>
  );
  return (
    <Box sx={{ display: 'flex', minHeight: '100vh' }}>
      <AppBar position="fixed" sx={{ zIndex: (t) => t.zIndex.drawer + 1 }}>
        <Toolbar sx={{ gap: 1 }}>
          {wide ? null : (
            <IconButton color="inherit" aria-label="Open menu" onClick={() => setOpen(true)}>
              <MenuIcon />
            </IconButton>
          )}
          <Typography variant="h6" component="div" sx={{ flexGrow: 1 }}>
            AIGNE Hub
          </Typography>
          {info ? (
            <Tooltip title={info.user.did}>
              <Chip
                data-testid="whoami"
                label={`${info.user.fullName ?? info.user.name ?? `${info.user.did.slice(0, 8)}…`} · ${info.user.role}`}
                color="default"
                sx={{ bgcolor: 'rgba(255,255,255,0.15)', color: 'inherit' }}
              />
            </Tooltip>
          ) : null}
          <Tooltip title={mode === 'dark' ? 'Light mode' : 'Dark mode'}>
            <IconButton color="inherit" aria-label="Toggle dark mode" onClick={toggle}>
              {mode === 'dark' ? <LightModeIcon /> : <DarkModeIcon />}
            </IconButton>
          </Tooltip>
          <Tooltip title="Sign out">
            <IconButton color="inherit" aria-label="Sign out" onClick={() => signOut()}>
              <LogoutIcon />
            </IconButton>
          </Tooltip>
        </Toolbar>
      </AppBar>
      <Drawer
        variant={wide ? 'permanent' : 'temporary'}
        open={wide || open}
        onClose={() => setOpen(false)}
        sx={{ width: DRAWER, flexShrink: 0, '& .MuiDrawer-paper': { width: DRAWER, boxSizing: 'border-box' } }}
      >
        <Toolbar />
        {nav}
      </Drawer>
      <Box component="main" sx={{ flexGrow: 1, p: { xs: 2, md: 3 }, minWidth: 0 }}>
        <Toolbar />
        <Routes>
          <Route path="/" element={<Overview />} />
          {isAdmin ? <Route path="/config/ai-config/providers" element={<Providers />} /> : null}
          {isAdmin ? <Route path="/config/ai-config/models" element={<Models />} /> : null}
          {isAdmin ? <Route path="/config/ai-config/health" element={<Health />} /> : null}
          <Route path="/config/usage" element={<Usage />} />
          <Route path="/projects" element={<Projects />} />
          <Route path="/calls" element={<CallLog />} />
          <Route path="/config/playground" element={<Playground />} />
          <Route path="/playground" element={<Playground />} />
          <Route path="/credit-usage" element={<Credits />} />
          <Route path="/access-keys" element={<AccessKeys />} />
          <Route path="/notifications" element={<Notifications />} />
          <Route path="/pricing" element={<Pricing />} />
          <Route path="/profile" element={<Profile />} />
          <Route path="*" element={<NotHere />} />
        </Routes>
      </Box>
    </Box>
  );
}

function NotHere() {
  const { isAdmin } = useAuth();
  const location = useLocation();
  const adminOnly = NAV.some((n) => n.admin && location.pathname.startsWith(n.path));
  return (
    <Box sx={{ p: 4 }}>
      <Typography variant="h5" component="h1">
        {adminOnly && !isAdmin ? 'Admins only' : 'Page not found'}
      </Typography>
      <Typography color="text.secondary">
        {adminOnly && !isAdmin ? 'This page needs an admin key.' : `Nothing at ${location.pathname}.`}
      </Typography>
    </Box>
  );
}

function Gate() {
  const { info, loading } = useAuth();
  const location = useLocation();
  if (loading) return <Loading />;
  if (!info) {
    if (location.pathname === '/pricing') return <Pricing standalone />;
    return (
      <Routes>
        <Route path="*" element={<SignIn />} />
      </Routes>
    );
  }
  if (location.pathname === '/signin') return <Navigate to="/" replace />;
  // The approval page of `aigne hub connect`: on its own, as the CLI's user opens it.
  if (location.pathname === CONNECT_PATH) return <ConnectApproval />;
  return <Shell />;
}

export default function App() {
  return (
    <AuthProvider>
      <Gate />
    </AuthProvider>
  );
}
