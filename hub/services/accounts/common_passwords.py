"""Bundled lists for the password policy (`hub.services.accounts.passwords`), compared in lower case.

`COMMON` holds passwords of 8 or more characters that top the published lists of leaked and most-used
passwords (the RockYou breach, SplashData's and NordPass's yearly lists, the UK NCSC's "100,000 most
common", SecLists), reproduced here from those sources' best-known entries: keyboard walks, digit
runs, years, names, teams, "password" and "iloveyou" variants. Shorter ones need no entry: the
minimum length refuses them already.

`BASE_WORDS` are words that stay guessable with a few digits or symbols around them ("dragon2024!",
"P@ssw0rd1"), including this product's own name, as NIST SP 800-63B asks for context-specific words.
"""

from __future__ import annotations

_COMMON = """
12345678 123456789 1234567890 12345678910 0123456789 1234567891 123456789a a123456789 1234567a
a1234567 12345678a a12345678 12345678q q12345678 1234567q q1234567 11111111 111111111 1111111111
00000000 000000000 0000000000 12121212 123123123 1231231234 12341234 1234512345 11223344
112233445566 123321123 12344321 1234554321 123454321 147258369 147852369 159753123 159357123
159753456 741852963 963852741 987654321 9876543210 87654321 123654789 321654987 789456123 456789123
123789456 13579246 24682468 19871987 19901990 20002000 20202020 20212021 20222022 20232023 20242024
69696969 13131313 14141414 10203040 102030405060 1029384756 5201314520 52013145 1314520520
woaini1314 iloveyou1314 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u q1w2e3r4 q1w2e3r4t5
q1w2e3r4t5y6 1qaz2wsx 1qaz2wsx3edc 1qazxsw2 zaq12wsx zaq1zaq1 zaq1xsw2 xsw21qaz zaq1@wsx 1qaz!qaz
!qaz2wsx 1qaz@wsx 2wsx3edc qazwsxedc qazwsxedcrfv qweasdzxc qweasd123 123qweasd 123qweasdzxc
qwe123qwe qwe12345 qwe123456 123qwe123 qwerty123 qwerty1234 qwerty12345 qwerty12 qwerty11 qwerty01
qwerty007 qwertyui qwertyuiop qwertyuiop123 qwertzuiop azertyuiop azerty123 asdfghjkl asdfghjk
asdf1234 asdfasdf asdasdasd asd123asd asdqwe123 zxcvbnm1 zxcvbnm123 zxcv1234 zxc123456 zxcasdqwe
poiuytrewq mnbvcxz1 lkjhgfdsa 1234qwer qwer1234 1234asdf 1234abcd abcd1234 abc12345 abc123456
abc123abc 123abc123 abcabc123 aa123456 aa12345678 aaa12345 a1b2c3d4 a1b2c3d4e5 1a2b3c4d abcdefg1
abcdefgh1 qq123456 zz123456 password password1 password12 password123 password1234 password2
password01 password! passw0rd passw0rd1 p@ssw0rd p@ssword p@ssw0rd1 p@55w0rd pa55word pa55w0rd
pa$$w0rd pa$$word password@123 drowssap passpass pass1234 pass12345 passport mypassword mypassword1
yourpassword newpassword oldpassword nopassword thepassword secretpassword passwort passwort1
motdepasse contrasena contrasenia senha123 wachtwoord salasana haslo123 parola123 iloveyou
iloveyou1 iloveyou2 iloveyou! iloveu123 iloveyou123 ilovegod iloveme1 lovelove loveyou1 loveme123
ilovehim iloveher ihateyou sunshine sunshine1 princess princess1 princesa football football1
baseball baseball1 basketball softball volleyball superman superman1 batman123 spiderman ironman1
starwars starwars1 trustno1 trustno1! letmein1 letmein123 letmein! letmeinnow welcome1 welcome12
welcome123 welcome! welcome2 changeme changeme1 changeme123 default1 whatever whatever1 computer
computer1 internet internet1 security security1 administrator admin123 admin1234 admin12345
adminadmin administrator1 root1234 toor1234 test1234 test12345 testtest testing1 testing123
guest123 user1234 demo1234 temp1234 temppass login123 loginpass master12 master123 mastermind
michelle jennifer jessica1 michael1 jonathan nicholas danielle victoria samantha alexander
christopher elizabeth jasmine1 patricia jordan23 jordan123 michael23 liverpool chelsea1 arsenal1
barcelona manchester mercedes corvette ferrari1 mustang1 chevrolet mitsubishi volkswagen
harleydavidson charlie1 babygirl babygirl1 butterfly chocolate cookie123 midnight marlboro blink182
freedom1 hello123 hello1234 helloworld hellokitty monkey123 monkey12 dragon123 shadow12 shadow123
killer123 thunder1 hunter12 hunter123 ranger12 buster12 tigger12 pepper12 ginger12 summer12
summer2020 summer2021 summer2022 summer2023 summer2024 winter2020 winter2021 winter2022 winter2023
winter2024 spring2023 spring2024 autumn2023 january1 december september november october1 pokemon1
pokemon123 minecraft minecraft1 fortnite roblox123 naruto123 dragonball onepiece doraemon snoopy12
mickey12 pikachu1 westside eminem12 metallica nirvana1 slipknot linkinpark beatles1 rolltide
steelers cowboys1 yankees1 redskins packers1 eagles12 lakers24 playboy1 sexy1234 iloveyou3
12345qwert qwert12345 11111111a angel123 angelina beautiful brandon1 cheyenne chicken1 chris123
daniel12 diamond1 dolphins elephant fernando firebird forever1 friends1 gangster garfield gateway1
hardcore heather1 isabella jackson1 jeremiah kimberly lollipop maverick melissa1 mountain nicole12
peaches1 platinum precious raiders1 rainbow1 scorpion shopping skittles snowball spitfire stephanie
strawberry sweetheart sweetpea tinkerbell trinity1 vanessa1 veronica warcraft william1 wolverine
zeppelin southside teamo123 bond007! jamesbond jamesbond007 matrix12 phoenix1 newyork1 california
australia colorado brooklyn michigan nintendo playstation playstation2 starcraft counterstrike
jesus123 jesuschrist blessed1 godisgood christ123 iamthebest fuckyou1 fuckoff1 fuckyou123 fuckyou!
asshole1 bitch123 1234567890q schalke04 borussia bayern123 juventus zxcvbnmm qwerty123! qwerty1!
password1! password123! welcome123! abc123!@# !@#$%^&* !@#$%^&*() 1qaz2wsx! qweqweqwe zxczxczxc
147147147 258258258 369369369 159159159 741741741 789789789 456456456 321321321 963963963 aaaaaaaa1
superstar supergirl superman123 goodluck sunflower blueberry blackberry bubblegum cupcake1 cocacola
pepsi123 snickers mercedes1 bmw12345 toyota123 honda123 yamaha12 kawasaki ducati99 porsche911
ferrari123 lamborghini montecarlo nokia123 samsung1 samsung123 iphone123 apple123 google123
facebook facebook1 linkedin twitter1 myspace1 hotmail1 gmail123 yahoo123 microsoft windows1
windows7 windows10 linux123 ubuntu123 oracle123 cisco123 qwerty12345! correcthorsebatterystaple
correcthorse trustnoone letitbe1 imagine1 peaceandlove whatsup1 nothing1 someone1 everything
anything something nobody123 123456789q 123456789z 1234567890a zxcvbnm12 q1w2e3r4t5y6u7
"""

_BASE_WORDS = """
password passwort passwd pass passw pwd secret qwerty qwertz azerty qwertyuiop asdf asdfgh zxcvbn
qwe asd zxc qaz wsx abc abcd abcde abcdef iloveyou iloveu ilove loveyou love lovely letmein welcome
hello hi admin administrator root toor user guest demo test testing temp default changeme login
access secure security private system server network database manager support service office
company work school student teacher master monkey dragon shadow sunshine princess football baseball
basketball soccer hockey golf tennis superman batman spiderman starwars trustno freedom whatever
charlie michael jordan jennifer jessica ashley daniel thomas robert andrew joshua matthew anthony
hunter ranger buster tigger pepper ginger maggie bailey buddy rocky lucky sparky snoopy scooter
summer winter spring autumn flower cookie cheese pizza coffee chocolate banana orange cherry purple
yellow silver golden diamond money dollar sexy hottie killer ninja mustang harley ferrari porsche
corvette mercedes yankees cowboys lakers liverpool chelsea arsenal barcelona madrid juventus angel
jesus god blessed baby babygirl babyboy daddy mommy family friend friends forever matrix thunder
tiger lion eagle falcon phoenix dolphin butterfly pokemon minecraft fortnite roblox computer
internet samsung iphone google facebook linkedin twitter yahoo hotmail gmail apple microsoft
windows linux ubuntu oracle cisco fuck fuckyou shit bitch asshole january february march april may
june july august september october november december monday tuesday wednesday thursday friday
saturday sunday switchboard ticket tickets kanban slack discord
"""

COMMON: frozenset[str] = frozenset(_COMMON.split())
BASE_WORDS: frozenset[str] = frozenset(_BASE_WORDS.split())
