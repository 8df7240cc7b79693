/**
 * The root panel's HTML: a static shell with a strict CSP and one nonce'd script. No data is ever
 * put into it — everything arrives as messages after the webview says `ready`. Plain strings (no DOM,
 * no vscode): the host (client/src/panel) builds its page with it and the browser test serves the same page.
 */

export interface PanelHtmlInput {
  /** `webview.cspSource` */
  cspSource: string;
  /** `webview.asWebviewUri(.../dist/webview/webview.js)` as a string */
  scriptUri: string;
  /** `webview.asWebviewUri(.../dist/webview/panel.css)` as a string */
  styleUri: string;
  /** Base64 from a crypto source, fresh for every page. */
  nonce: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
  ].join('; ');
}

export function panelHtml(input: PanelHtmlInput): string {
  const csp = contentSecurityPolicy(input.cspSource, input.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${attr(input.styleUri)}">
<title>KVM MMU Roots</title>
</head>
<body>
<main id="app" aria-busy="true"></main>
<script nonce="${attr(input.nonce)}" src="${attr(input.scriptUri)}"></script>
</body>
</html>
`;
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
