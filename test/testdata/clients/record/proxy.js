// logging reverse proxy: node proxy.js LISTENPORT OUTFILE  -> forwards to 127.0.0.1:18080
const http = require('http'); const fs = require('fs'); const zlib = require('zlib');
const [port, out] = process.argv.slice(2);
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers };
    const p = http.request({ host: '127.0.0.1', port: 18080, method: req.method, path: req.url, headers }, pr => {
      const rc = [];
      pr.on('data', c => rc.push(c));
      pr.on('end', () => {
        const rb = Buffer.concat(rc);
        const enc = pr.headers['content-encoding'];
        const plain = enc === 'gzip' ? zlib.gunzipSync(rb) : enc === 'br' ? zlib.brotliDecompressSync(rb) : enc === 'deflate' ? zlib.inflateSync(rb) : rb;
        fs.appendFileSync(out, JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8'),
          status: pr.statusCode, respHeaders: pr.headers, respBody: plain.toString('utf8') }) + '\n');
        res.writeHead(pr.statusCode, pr.headers); res.end(rb);
      });
    });
    p.on('error', e => { res.writeHead(502); res.end(String(e)); });
    p.end(body);
  });
}).listen(+port, '127.0.0.1');
