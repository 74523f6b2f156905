import { isInboxReply } from './nest-transport.js';

describe('isInboxReply: where a request/reply endpoint may answer', () => {
  it.each(['_INBOX.abc.def', '_INBOX_client.abc.1', 'my-app.replies.42'])('answers on %s', (subject) => {
    expect(isInboxReply(subject)).toBe(true);
  });

  it.each([
    'orchestra.control.cancel.x1',
    'orchestra.events.x1',
    'orchestra.cmd.execute',
    '$KV.orchestra_results.x1',
    '$JS.API.STREAM.DELETE.ORCHESTRA_EVENTS',
    '$SYS.REQ.SERVER.PING',
  ])('never on %s, which a crafted request could name', (subject) => {
    expect(isInboxReply(subject)).toBe(false);
  });
});
