/**
 * Passwords that appear at the top of public breach lists: the international ones
 * (RockYou, the yearly SplashData and NordPass lists, Have I Been Pwned's top) and the
 * Chinese ones (the 2011 CSDN, Tianya and 178 leaks, the 12306 and NetEase lists),
 * which lean on digits, keyboard walks, pinyin and love numbers (5201314 reads
 * "我爱你一生一世"). They are the first guesses of any online attack.
 *
 * Only entries of 8 or more characters matter for enforcement, since shorter ones are
 * already refused by length; the short ones stay because they are the roots people
 * pad (woaini → woaini1314) and a reader checking the list expects to find them.
 * Comparison is case-insensitive: entries are lower-case.
 */
const LIST: readonly string[] = [
  // digits, repeats and runs
  '123456', '123456789', '12345678', '1234567890', '12345', '1234567', '1234', '0123456789',
  '111111', '11111111', '1111111111', '000000', '00000000', '0000000000', '666666', '66666666',
  '888888', '88888888', '8888888888', '999999', '99999999', '555555', '55555555', '777777',
  '77777777', '222222', '22222222', '333333', '33333333', '444444', '44444444', '123123',
  '123123123', '12341234', '12344321', '123321', '1234554321', '112233', '11223344', '121212',
  '12121212', '654321', '7654321', '87654321', '987654321', '9876543210', '147258', '147258369',
  '147852369', '123654789', '159357', '15935728', '159753', '741852963', '963852741', '789456123',
  '789456', '456789', '456123', '147369', '258369', '369258147', '123789', '102030',
  '10203040', '11112222', '11223344556677', '12301230', '123456123', '12345600', '123456000',
  '1234567899', '12345678910', '000000000', '111111111', '111222', '112233445566', '123000',
  '131313', '13131313', '201314', '520520', '521521', '5211314', '5201314', '52013140',
  '1314520', '13145200', '1314521', '7758521', '7758258', '584520', '168168', '518518',
  '16881688', '168888', '888666', '666888', '998877', '31415926', '3.1415926', '314159',
  '19491001', '19860101', '19880808', '19900101', '20080808', '20202020', '11111111111',
  '12345678900', '13800138000',
  // Chinese pinyin, names and love phrases
  'woaini', 'woaini1314', 'woaini520', 'woaini521', 'woaini123', 'woainima', 'woainimama',
  'woaiwojia', 'woaibaobao', 'woshishui', 'wodemima', 'mima123', 'mimamima', 'nihao',
  'nihao123', 'nihaoma', 'nihao520', 'zhangwei', 'wangwei', 'wangjing', 'liuyang', 'lijing',
  'zhangjie', 'wangyang', 'liwei123', 'chenchen', 'xiaoxiao', 'xiaoming', 'xiaoyu', 'xiaolong',
  'xiaofeng', 'lovexiao', 'tiantian', 'huanhuan', 'jingjing', 'lingling', 'feifei', 'yangyang',
  'zhang123', 'wang123', 'wang123456', 'li123456', 'zhang123456', 'liu123456', 'chen123456',
  'zhao123456', 'huang123', 'dearbook', 'csdn.net', 'csdncsdn', 'tianya', 'tianya123',
  'baidu123', 'taobao', 'taobao123', 'qq123456', 'qq123456789', 'qq5201314', 'qqqqqq',
  'qqqqqqqq', 'qq111111', 'qq666666', 'aini1314', 'ai123456', 'a5201314', '5201314a',
  '5201314520', 'iloveyou1314', '1314woaini', 'woaini5201314', 'shanghai', 'beijing',
  'beijing2008', 'zhongguo', 'china123', 'china2008', 'kaixin', 'kuaile', 'xingfu', 'aiqing',
  'meimei', 'baobao', 'baobei', 'baobei520', 'laopo520', 'laogong', 'laopo', 'wangzhe',
  'wangzherongyao', 'caonima', 'shabi123', 'fuckyou', 'diannao', 'jiayou', 'pengyou',
  'xiaobai', 'shuaige', 'meinv', 'dongdong', 'nannan', 'xixixi', 'hahaha', 'hehehe',
  'zhimakaimen', 'kaimen', 'wangluo', 'huawei123', 'xiaomi123',
  // letters mixed with digits
  'a123456', 'a1234567', 'a12345678', 'a123456789', 'a111111', 'a11111', 'aa123456',
  'aa12345678', 'aaa123456', 'abc123', 'abc12345', 'abc123456', 'abc1234567', 'abc123456789',
  'abcd1234', 'abcd123456', 'abcde12345', 'abc123abc', '123456a', '123456aa', '12345678a',
  '123456789a', '123456abc', '123abc', '1234abcd', '123qwe', '123qweasd', 'qwe123', 'qwe123456',
  'qwe123qwe', 'asd123', 'asd123456', 'asdf1234', 'zxc123', 'zxc123456', 'q123456',
  'q1234567', 'q12345678', 'q123456789', 'z123456', 'z123456789', 'w123456', 'x123456',
  's123456', 'aaa111', 'aaa111111', 'a1b2c3', 'a1b2c3d4', '1a2b3c4d', 'a1s2d3f4', 'test123',
  'test1234', 'test123456', 'admin123', 'admin888', 'admin1234', 'admin12345', 'root123',
  'pass123', 'pass1234', 'password1', 'password12', 'password123', 'password1234', 'p@ssw0rd',
  'p@ssword', 'passw0rd', 'pa$$w0rd', 'password!', 'qwerty1', 'qwerty12', 'qwerty123',
  'qwerty1234', 'qwerty123456', 'abc@123', 'admin@123', 'admin@1234', 'root@123',
  'welcome1', 'welcome123', 'iloveyou1', 'iloveyou2', 'love1234', 'love123456', 'monkey123',
  'dragon123', 'killer123', 'hello123', 'hello1234', 'sunshine1', 'princess1', 'football1',
  'baseball1', 'charlie1', 'michael1', 'jordan23', 'superman1', 'batman123', 'letmein1',
  'trustno1', 'abcd@1234', 'p@55w0rd', 'qazwsx123', 'zaq12wsx', 'zaq1xsw2', '1q2w3e',
  '1q2w3e4r', '1q2w3e4r5t', '1q2w3e4r5t6y', 'q1w2e3r4', 'q1w2e3r4t5', '1qaz2wsx',
  '1qaz2wsx3edc', '1qazxsw2', '1qaz@wsx', '1qaz!qaz', '2wsx3edc', 'qaz123', 'qaz123456',
  '1234qwer', 'qwer1234', 'qwer123456', '123456qwe', '123456qwerty', 'asdf123456',
  '1234asdf', 'zxcv1234', '123zxc',
  // keyboard walks
  'qwerty', 'qwertyui', 'qwertyuiop', 'qwert', 'qwerasdf', 'qwerasdfzxcv', 'qweasd',
  'qweasdzxc', 'qweqwe', 'qweqweqwe', 'qwaszx', 'qazwsx', 'qazwsxedc', 'qazxsw', 'zaqxsw',
  'asdfgh', 'asdfghjk', 'asdfghjkl', 'asdasd', 'asdasdasd', 'asdf', 'asdfasdf', 'zxcvbn',
  'zxcvbnm', 'zxcvbnm123', 'zxczxc', 'zxcvzxcv', '1qaz', 'poiuytrewq', 'mnbvcxz', 'lkjhgfdsa',
  'qwertyuiop123', '!qaz2wsx', '!@#$%^&*', '!@#$%^', '1q2w3e4r!', 'aaaaaa', 'aaaaaaaa',
  'abcdef', 'abcdefg', 'abcdefgh', 'abcdefghi', 'abcdefghij', 'abcabc', 'abcabc123',
  'ababab', 'a1a1a1a1', 'azerty', 'azertyuiop', 'qwertz', 'qwertzuiop',
  // English words and names from the international top lists
  'password', 'iloveyou', 'princess', 'rockyou', 'nicole', 'daniel', 'babygirl',
  'monkey', 'lovely', 'jessica', 'michael', 'ashley', 'dragon', 'letmein',
  'baseball', 'football', 'sunshine', 'shadow', 'master', 'superman', 'batman',
  'welcome', 'login', 'admin', 'administrator', 'starwars', 'whatever', 'freedom', 'charlie',
  'donald', 'jordan', 'harley', 'hunter', 'buster', 'soccer', 'hockey', 'killer', 'george',
  'sexy', 'andrew', 'thomas', 'robert', 'summer', 'winter', 'ginger', 'pepper', 'cheese',
  'computer', 'internet', 'samsung', 'google', 'apple', 'iphone', 'mustang', 'corvette',
  'ferrari', 'mercedes', 'porsche', 'liverpool', 'chelsea', 'arsenal', 'barcelona',
  'manchester', 'pokemon', 'naruto', 'minecraft', 'fortnite', 'matrix', 'flower', 'butterfly',
  'chocolate', 'princesa', 'anthony', 'joshua', 'matthew', 'jennifer', 'michelle', 'amanda',
  'tigger', 'purple', 'orange', 'yellow', 'silver', 'diamond', 'angel', 'angels', 'friends',
  'forever', 'loveme', 'lovelove', 'iloveu', 'fuckme', 'fuckoff', 'secret', 'secret123',
  'access', 'access14', 'passport', 'passwort', 'motdepasse', 'contrasena', 'senha',
  'qwerty12345', 'default', 'changeme', 'guest', 'test', 'testtest', 'testing', 'temp',
  'temp1234', 'system', 'server', 'oracle', 'mysql', 'database', 'backup', 'letmein123',
  'helloworld', 'hello', 'happy', 'happy123', 'blessed', 'jesus', 'jesus1', 'heaven',
  'trinity', 'zxcvbnm1', 'michael23', 'superstar', 'rainbow', 'dolphin', 'jordan1',
  'tinkerbell', 'cookie', 'banana', 'chicken', 'monkey1', 'dragonfly', 'maverick', 'phoenix',
  'spiderman', 'ironman', 'hannah', 'sophie', 'jasmine', 'daniela', 'alexander', 'william',
  'elizabeth', 'victoria', 'qwerty1234567', 'asdfjkl', 'asdfjkl;', 'passpass', 'letmeinnow',
  'mypassword', 'mypass', 'newpassword', 'nopassword', 'password2', 'password01',
  'iloveyou123', 'loveyou', 'love', 'lover', 'sweetheart', 'sweetie', 'honey', 'darling',
  'beautiful', 'handsome', 'gangster', 'playboy', 'player', 'hottie', 'lovers',
  // common years and dates written as passwords
  '19841984', '19851985', '19861986', '19871987', '19881988', '19891989', '19901990',
  '19911991', '19921992', '19931993', '19941994', '19951995', '19961996', '19971997',
  '19981998', '19991999', '20002000', '20102010', '20112011', '20122012',
  '01012000', '01011990', '01011980', '11111990', '12121990',
];

/** Lower-cased; look candidates up with `.has(candidate.toLowerCase())`. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(LIST.map((p) => p.toLowerCase()));
