// Bundles the dashboard into dist/ (app.js, app.css, index.html); run by Vessel.Api.csproj at dotnet build time.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

await mkdir('dist', { recursive: true });
await build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: 'dist',
  loader: { '.css': 'css' },
  logLevel: 'warning',
});
await copyFile('src/index.html', 'dist/index.html');
