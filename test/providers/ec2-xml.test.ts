import { describe, expect, it } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';
import { parseEc2Error, parseEc2Xml, xmlItems, xmlText } from '../../src/providers/ec2-xml.js';

describe('parseEc2Xml()', () => {
  it('reads nested elements, item lists, entities and CDATA', () => {
    const root = parseEc2Xml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><R xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
        '<set><item><k>a &amp; b &lt;c&gt; &#233;&#x1F600;</k></item><item><k><![CDATA[<raw>&amp;]]></k></item>' +
        '<item/></set><empty/><ns:tag a="1" b=\'>\'>x</ns:tag></R>',
    );
    expect(root.name).toBe('R');
    const items = xmlItems(root, 'set');
    expect(items).toHaveLength(3);
    expect(xmlText(items[0], 'k')).toBe('a & b <c> é😀');
    expect(xmlText(items[1], 'k')).toBe('<raw>&amp;');
    expect(xmlText(root, 'empty')).toBeUndefined();
    expect(xmlText(root, 'missing', 'deeper')).toBeUndefined();
    expect(xmlText(root, 'tag')).toBe('x');
  });

  it('keeps non-ASCII text as is', () => {
    expect(xmlText(parseEc2Xml('<a><b>Zürich — 東京</b></a>'), 'b')).toBe('Zürich — 東京');
  });

  it.each([
    ['truncated', '<a><b>text</b><c>'],
    ['cut inside a tag', '<a><b>text</b'],
    ['mismatched', '<a><b></a></b>'],
    ['unknown entity', '<a>&bogus;</a>'],
    ['bare ampersand', '<a>fish & chips</a>'],
    ['two roots', '<a/><b/>'],
    ['empty', ''],
    ['not xml', '{"json": true}'],
    ['html-ish', '<html><body>Bad Gateway'],
  ])('rejects %s input with E_MALFORMED_RESPONSE', (_name, text) => {
    try {
      parseEc2Xml(text, 'aws');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FleetwatchError);
      expect((err as FleetwatchError).code).toBe('E_MALFORMED_RESPONSE');
      expect((err as FleetwatchError).provider).toBe('aws');
      expect(typeof (err as FleetwatchError).position).toBe('number');
    }
  });

  it('rejects absurd nesting instead of overflowing', () => {
    expect(() => parseEc2Xml('<a>'.repeat(1000) + '</a>'.repeat(1000))).toThrow(/nesting too deep/);
  });
});

describe('parseEc2Error()', () => {
  it('reads the Response/Errors/Error shape', () => {
    expect(
      parseEc2Error(
        '<?xml version="1.0"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>',
      ),
    ).toEqual({ code: 'RequestLimitExceeded', message: 'Request limit exceeded.', requestId: 'r-1' });
  });

  it('reads the ErrorResponse/Error shape and returns undefined for other text', () => {
    expect(parseEc2Error('<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>')).toEqual({
      code: 'X',
      message: 'X',
    });
    expect(parseEc2Error('<Response/>')).toBeUndefined();
    expect(parseEc2Error('Service Unavailable')).toBeUndefined();
  });
});
