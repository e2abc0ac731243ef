/** The console's stylesheet: system fonts, a top bar that wraps on phones, cards and tables that scroll. */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1e293b;background:#f8fafc}
a{color:#1d4ed8}
header{background:#0f172a;color:#e2e8f0;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center}
header .brand{font-weight:700;color:#fff;text-decoration:none;margin-right:.5rem}
header nav{display:flex;flex-wrap:wrap;gap:.2rem .9rem}
header nav a{color:#cbd5e1;text-decoration:none;padding:.15rem 0}
header nav a[aria-current=page]{color:#fff;border-bottom:2px solid #60a5fa}
header .who{margin-left:auto;display:flex;gap:.5rem;align-items:center;font-size:13px;color:#94a3b8}
header .who button{background:none;border:1px solid #475569;color:#e2e8f0;border-radius:4px;padding:.1rem .5rem;cursor:pointer}
main{padding:1rem;max-width:1280px;margin:0 auto}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.6rem;margin-bottom:1rem}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:.6rem .8rem}
.card b{display:block;font-size:1.35rem}.card span{color:#64748b;font-size:13px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:.8rem}
figure.chart{margin:0;background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:.5rem;min-width:0}
figure.chart figcaption{font-weight:600;margin-bottom:.3rem}
.table{overflow-x:auto;background:#fff;border:1px solid #e2e8f0;border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #f1f5f9;vertical-align:top}
th{background:#f8fafc;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{background:#f1f5f9;padding:.5rem;overflow:auto;max-height:20rem;margin:.3rem 0;white-space:pre-wrap;word-break:break-all}
.tabs{display:flex;gap:.4rem;margin:-.4rem 0 .8rem}.tabs a{padding:.15rem .6rem;border:1px solid #cbd5e1;border-radius:999px;text-decoration:none;font-size:13px}
.tabs a[aria-current=page]{background:#1d4ed8;color:#fff;border-color:#1d4ed8}
form.inline{display:inline}
button,.button{font:inherit;font-size:13px;padding:.25rem .7rem;border-radius:6px;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}
input[type=search],input[type=password],select{font:inherit;padding:.4rem .5rem;border:1px solid #cbd5e1;border-radius:6px;min-width:0}
.search{display:flex;gap:.5rem;margin-bottom:1rem}.search input{flex:1}
.notice{padding:.6rem .8rem;border-radius:8px;margin-bottom:1rem;background:#ecfdf5;border:1px solid #a7f3d0}
.notice.error{background:#fef2f2;border-color:#fecaca}
.muted{color:#64748b}.pill{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:12px;background:#e2e8f0}
.pill.firing,.pill.failed,.pill.dead{background:#fee2e2;color:#991b1b}.pill.resolved,.pill.delivered,.pill.sent{background:#dcfce7;color:#166534}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,380px),1fr));gap:.8rem}
.signin{max-width:380px;margin:12vh auto;background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:1.5rem}
.signin input{width:100%;margin:.3rem 0 1rem}
`;
