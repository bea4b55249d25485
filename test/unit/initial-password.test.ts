import test from 'ava';
import { checkPassword } from '../../src/identity/password-policy.js';
import { initialPassword } from '../../src/staff/initial-password.js';

test('an initial password is twelve lower-case letters and digits that cannot be misread, and passes the policy for its person', (t) => {
  const person = { idNumber: '11010519491231002X', phone: '13800138000', birthDate: '1949-12-31' };
  for (let i = 0; i < 200; i += 1) {
    const password = initialPassword(person);
    t.regex(password, /^[2-9a-hjkmnp-z]{12}$/);
    t.true(checkPassword(password, person).ok);
  }
});
