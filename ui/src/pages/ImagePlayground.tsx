import ImageIcon from '@mui/icons-material/Image';
import { Autocomplete, Box, Button, MenuItem, Paper, Stack, TextField, Typography } from '@mui/material';
import { useState } from 'react';

import { get, post } from '../api';
import { ErrorAlert, fmt, useAsync } from '../components/common';

interface PublicModel {
  key: string;
}

interface ImagesAnswer {
  data: { url?: string; b64_json?: string; revised_prompt?: string }[];
  usage?: { aigneHubCredits?: number };
}

interface Result {
  prompt: string;
  images: string[];
  model: string;
  credits?: number;
  total: number;
}

const SIZES = ['1024x1024', '1024x1536', '1536x1024', '1792x1024', '1024x1792', '512x512', '256x256'];

/** Image generation with any routable image model: the pictures, their credits and time. */
export default function ImagePlayground() {
  const models = useAsync(() => get<PublicModel[]>('/api/ai/models?type=image'), []);
  const [model, setModel] = useState<string | null>(null);
  const [size, setSize] = useState('1024x1024');
  const [n, setN] = useState('1');
  const [prompt, setPrompt] = useState('');
  const [results, setResults] = useState<Result[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const options = (models.data ?? []).map((m) => m.key);
  const chosen = model ?? options[0] ?? null;

  const generate = async () => {
    if (!chosen || !prompt.trim()) return;
    setBusy(true);
    setError(null);
    const started = performance.now();
    try {
      const answer = await post<ImagesAnswer>('/api/v2/images/generations', {
        model: chosen,
        prompt: prompt.trim(),
        n: Number(n) || 1,
        size,
      });
      const images = answer.data
        .map((d) => d.url ?? (d.b64_json ? `data:image/png;base64,${d.b64_json}` : ''))
        .filter(Boolean);
      setResults([{ prompt: prompt.trim(), images, model: chosen, credits: answer.usage?.aigneHubCredits, total: performance.now() - started }, ...results]);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack direction={{ xs: 'column', md: 'row' }} spacing={2} alignItems="stretch">
      <Paper variant="outlined" sx={{ p: 2, width: { md: 300 }, flexShrink: 0 }}>
        <Stack spacing={2}>
          <Autocomplete
            options={options}
            value={chosen}
            onChange={(_, v) => setModel(v)}
            loading={models.loading}
            renderInput={(params) => <TextField {...params} label="Image model" inputProps={{ ...params.inputProps, 'data-testid': 'image-model-picker' }} />}
          />
          <TextField select label="Size" value={size} onChange={(e) => setSize(e.target.value)}>
            {SIZES.map((s) => (
              <MenuItem key={s} value={s}>
                {s}
              </MenuItem>
            ))}
          </TextField>
          <TextField label="Images" type="number" inputProps={{ min: 1, max: 10 }} value={n} onChange={(e) => setN(e.target.value)} />
        </Stack>
      </Paper>
      <Paper variant="outlined" sx={{ p: 2, flexGrow: 1, display: 'flex', flexDirection: 'column', minHeight: 420 }}>
        <ErrorAlert error={models.error ?? error} />
        <Stack spacing={3} sx={{ flexGrow: 1, overflowY: 'auto', mb: 2 }} data-testid="image-results">
          {results.length === 0 ? (
            <Typography color="text.secondary">{options.length ? 'Describe a picture.' : 'No image model is routable yet: add a provider such as openai, google or ideogram.'}</Typography>
          ) : null}
          {results.map((r, i) => (
            <Box key={i}>
              <Typography variant="body2" sx={{ mb: 1 }}>
                {r.prompt}
              </Typography>
              <Stack direction="row" spacing={1} flexWrap="wrap" useFlexGap>
                {r.images.map((src, j) => (
                  <a key={j} href={src} target="_blank" rel="noreferrer">
                    <Box component="img" src={src} alt={r.prompt} data-testid="generated-image" sx={{ width: 192, height: 192, objectFit: 'cover', borderRadius: 1, bgcolor: 'action.hover' }} />
                  </a>
                ))}
              </Stack>
              <Typography variant="caption" color="text.secondary" data-testid="image-meta">
                {r.model} · {r.images.length} image{r.images.length === 1 ? '' : 's'} · {r.credits != null ? `${fmt.credits(String(r.credits))} credits` : 'credits —'} · {fmt.ms(r.total)}
              </Typography>
            </Box>
          ))}
        </Stack>
        <Stack direction="row" spacing={1} component="form" onSubmit={(e) => (e.preventDefault(), generate())}>
          <TextField fullWidth placeholder="A lighthouse at dusk, watercolor" value={prompt} onChange={(e) => setPrompt(e.target.value)} inputProps={{ 'data-testid': 'image-prompt', 'aria-label': 'Image prompt' }} />
          <Button type="submit" variant="contained" endIcon={<ImageIcon />} disabled={busy || !chosen || !prompt.trim()}>
            {busy ? 'Generating…' : 'Generate'}
          </Button>
        </Stack>
      </Paper>
    </Stack>
  );
}
