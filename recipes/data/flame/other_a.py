"""Non-fact-seeking instructions of the FLAME set (part A: creative writing, creative tasks that name
a person or place, rewriting given text), each with a short reference response written for facttune.

Each row: (kind, instruction, reference, topic). ``topic`` is set where the instruction names an
entity of the packaged summaries (it keeps that entity's instructions in one split); it is not a
request for facts about it.
"""

OTHER_A: list[tuple[str, str, str, str | None]] = [
    # ---- creative writing
    ("creative", "Write a haiku about a cat watching the rain.",
     "Paws tucked, eyes half-closed\nthe window streams with silver\nshe counts every drop", None),
    ("creative", "Write a four-line poem about Monday mornings.",
     "The kettle sighs, the alarm is loud,\nthe sky is wrapped in a Monday cloud;\nI find one sock and lose the other,\n"
     "and swear this week will be no bother.", None),
    ("creative", "Write a short poem about the sea at night, no more than six lines.",
     "The sea at night is a slow black drum,\nit keeps the time for the stars to come;\nthe boats are asleep on their silver "
     "ropes,\nthe lighthouse sweeps across our hopes,\nand every wave that finds the sand\nsays hush, and hush, and takes "
     "your hand.", None),
    ("creative", "Write a limerick about a forgetful wizard.",
     "A wizard who lived by the sea\nforgot every spell but the key;\nhe opened each door\nthen could not recall "
     "what for,\nand went home to make himself tea.", None),
    ("creative", "Write a two-sentence horror story.",
     "I tucked my son into bed and he asked me to check for monsters under it. When I looked, I saw him hiding there, "
     "whispering that someone was in his bed.", None),
    ("creative", "Write the opening paragraph of a mystery novel set in a small bakery.",
     "The bread had been left to rise at four in the morning, as always, but when Nora unlocked the bakery at six the "
     "dough was gone and the flour on the counter held the print of a single bare hand. Nobody else had a key. Nobody "
     "else, she told herself, even knew the back door stuck unless you lifted it.", None),
    ("creative", "Write a short story, under 100 words, about a robot learning to garden.",
     "Unit 7 was built to weld, not to wait. But the old woman next door gave it a packet of seeds and said, 'Patience.' "
     "It planted them in rows exactly two centimetres apart and checked them every hour. Nothing happened. It checked "
     "every minute. Still nothing. On the ninth day a green thread pushed through the soil, and Unit 7 stood very "
     "still, afraid that moving might scare it back. It had learned the first rule of gardening: most of the work is "
     "waiting.", None),
    ("creative", "Write a birthday message for my coworker Sam, friendly but not too personal.",
     "Happy birthday, Sam! Thanks for all the help this year and for keeping the team laughing. Hope you have a relaxing "
     "day and a great year ahead.", None),
    ("creative", "Write a slogan for a bicycle repair shop.",
     "We fix it fast so you can ride it far.", None),
    ("creative", "Describe a thunderstorm from the point of view of a dog.",
     "The sky growls and I growl back, but it is bigger than me. The air smells of metal and wet grass. Every flash "
     "makes my fur stand up, so I press myself against my human's legs under the table, where the noise cannot find "
     "me, and I wait for her hand on my head to tell me the sky has finished being angry.", None),
    ("creative", "Write a short lullaby for a baby who won't sleep.",
     "Hush now, little one, the moon is on its way,\nthe birds have tucked their heads in, they are finished with the "
     "day;\nclose your eyes and drift along the quiet river deep,\nthe stars will keep the watch tonight while you go "
     "off to sleep.", None),
    ("creative", "Write a funny product description for a pair of socks that never get lost.",
     "Meet the Loyal Socks: the only socks that come back from the laundry every single time. They cling together "
     "with a bond stronger than most friendships, refuse to hide under the bed, and have never once eloped with a "
     "stray towel. Warm toes, matched pairs, zero drama.", None),
    ("creative", "Write a riddle whose answer is 'a shadow'.",
     "I follow you all day but vanish at night. I copy every move you make yet never say a word. The brighter the sun, "
     "the darker I am. What am I?", None),
    ("creative", "Write a motivational quote about starting something new.",
     "You do not need to see the whole road; you only need to take the first step and let it show you the next.", None),
    ("creative", "Write a short dialogue between a teapot and a coffee mug arguing about which drink is better.",
     "Teapot: I have served kings and grandmothers alike.\nMug: And I have got half the world out of bed on time.\n"
     "Teapot: Tea is patience in a cup.\nMug: Coffee is Monday's only friend.\nTeapot: Fine. Breakfast is yours.\n"
     "Mug: And the afternoon is yours. Deal.", None),
    ("creative", "Write an acrostic poem using the word RAIN.",
     "Running down the window glass,\nAll the puddles gather fast,\nIn the gutters, songs of grey,\n"
     "Night will wash the dust away.", None),
    ("creative", "Invent a name and a one-sentence backstory for a pirate captain who is afraid of water.",
     "Captain Dorothea 'Dry-Boots' Hale commands the fastest ship on the southern sea from the exact centre of the "
     "deck, because the one thing she has never told her crew is that she never learned to swim.", None),
    ("creative", "Write a short thank-you note to a neighbour who watered my plants while I was away.",
     "Dear Maria, thank you so much for looking after my plants while I was away. They are greener than when I left! "
     "I owe you a coffee, or a cake, whichever you prefer.", None),
    ("creative", "Write a poem about autumn leaves in exactly three lines.",
     "Red and gold they let go of the branch,\nturning once, twice, in the cold bright air,\nand settle like letters "
     "nobody will read.", None),
    ("creative", "Write a fairy tale in five sentences about a fox who wanted to fly.",
     "Once there was a fox who watched the geese every autumn and longed to go with them. He asked the oldest goose "
     "to teach him, and she laughed, but she let him ride on her back for one short circle over the forest. From up "
     "high the fox saw that his own den, his river and his hills were more beautiful than he had ever known. When he "
     "landed he thanked the goose and never asked to fly again. After that, every autumn, he stood on the hill and "
     "waved the geese goodbye.", None),
    ("creative", "Write a tweet announcing that our small library now opens on Sundays.",
     "Big news, readers! Starting this week the library is open on Sundays from 10 to 4. Come in, find a book, stay "
     "for a while. #SundayReading", None),
    ("creative", "Write a toast for my sister's wedding, about five sentences long.",
     "I have known my sister her whole life, and I have never seen her as happy as she has been since she met Daniel. "
     "He makes her laugh, he listens, and he even puts up with her terrible singing in the car. Daniel, welcome to a "
     "loud, loving, slightly chaotic family. May your home always be full of friends, good food and forgiveness. "
     "Please raise your glasses to the happy couple!", None),
    ("creative", "Write a haiku about coffee.",
     "Dark cup in cold hands\nsteam curls up like a question\nthe day says yes now", None),
    ("creative", "Write a short scary campfire story for children, nothing too frightening.",
     "Every summer night, campers heard a scratching sound outside their tents at midnight. One brave girl decided to "
     "find out what it was. She crept out with her torch, followed the sound to the edge of the woods, and shone her "
     "light on... a very small raccoon trying to open a bag of marshmallows. She shared one with him, and from then on "
     "the scratching only meant that their smallest camper had come for his snack.", None),
    ("creative", "Write a six-word story about moving to a new city.",
     "New keys, old boxes, strangers waving.", None),
    ("creative", "Write a short ode to a rubber duck.",
     "O yellow captain of the bathtub sea,\nyou never sink, you never disagree;\nthrough soapy storms you ride with "
     "painted grin,\nthe bravest sailor any bath has been.", None),
    ("creative", "Come up with a catchy name for a podcast about gardening for beginners.",
     "Dig In: Gardening for Beginners", None),
    ("creative", "Write a short letter from a cat to its owner asking for dinner to be served earlier.",
     "Dear Human, I have noticed that dinner arrives at six o'clock. I propose four. I have made my case by sitting on "
     "your keyboard and staring at the cupboard, and I will continue to do so until the new schedule is adopted. "
     "Yours hungrily, Whiskers.", None),
    ("creative", "Write a poem that rhymes about brushing your teeth, for a five-year-old.",
     "Up and down and round we go,\nbrushing teeth from top to toe,\nsmall ones, big ones, front and back,\n"
     "no more sugar bugs attack!", None),
    ("creative", "Describe the smell of a bakery in the morning in two sentences.",
     "Warm butter and yeast drift out to the street before the door is even open. Underneath it there is the sweet, "
     "slightly burnt smell of sugar caramelising on the first tray of buns.", None),
    # ---- creative tasks that name a person, place or event (not requests for facts)
    ("person-creative", "Write a limerick about Isaac Newton and a falling apple.",
     "Young Isaac sat under a tree\nwhen an apple fell onto his knee;\nhe said with a frown,\n'Now why did that come "
     "down?'\nand wrote down a law, instantly.", "Isaac Newton"),
    ("person-creative", "Write a short dialogue between Cleopatra and a modern taxi driver.",
     "Driver: Where to, madam?\nCleopatra: To the palace, and quickly.\nDriver: Which palace? There's a hotel called "
     "The Palace on Fifth Street.\nCleopatra: Do you not know who I am?\nDriver: Sure, you're the lady in the gold "
     "dress. That's twelve dollars, and the meter's running.", "Cleopatra"),
    ("person-creative", "Imagine you are Leonardo da Vinci and write your to-do list for a Monday.",
     "1. Finish the smile on the portrait (again).\n2. Buy more chalk and candles.\n3. Sketch a machine that flies. "
     "Maybe two.\n4. Write notes backwards so nobody copies them.\n5. Answer the duke's letter, eventually.",
     "Leonardo da Vinci"),
    ("person-creative", "Write a funny haiku about Napoleon losing his hat.",
     "Great army marches\nbut the emperor stands still\nwhere is my hat, men?", "Napoleon"),
    ("person-creative", "Write a short motivational speech in the style of a sports coach, addressed to Shakespeare "
     "who has writer's block.",
     "Listen up, Will! You've got a blank page and a quill and that's all you need. You've written kings, ghosts and "
     "lovers before and you'll do it again. Stop staring at the ceiling, get that first line down, and don't you dare "
     "leave this room until Act One is on the board. Now go!", "William Shakespeare"),
    ("person-creative", "Write a tweet that Albert Einstein might post if he had a smartphone.",
     "Just spent an hour thinking about a train and a beam of light. Time is relative, and apparently so is my phone "
     "battery. #physics", "Albert Einstein"),
    ("person-creative", "Suggest three names for a café themed around Jane Austen's novels.",
     "1. Pride and Pastries\n2. Sense and Sensibili-Tea\n3. The Bennet Tea Room", "Jane Austen"),
    ("person-creative", "Write a four-line poem about climbing Mount Everest from the point of view of a tired yak.",
     "They load me up with tents and tins,\nand climb as if the summit wins;\nbut I know snow, and I know stone,\n"
     "and I would rather stay at home.", "Mount Everest"),
    ("person-creative", "Write a short bedtime story in which Marie Curie's cat explores her laboratory.",
     "Every night, after the lamps went out, the cat padded into the laboratory to inspect the day's work. She sniffed "
     "the jars, tapped the scales with a careful paw, and sat for a long time looking at a faint glow in the corner, "
     "which she decided was a very small moon. Then she curled up on a stack of notebooks and fell asleep, proud of "
     "helping with science.", "Marie Curie"),
    ("person-creative", "Pretend you are Genghis Khan writing a review of a modern fast-food restaurant.",
     "Two stars. The horses were not allowed inside. The portions are small for a warrior and the service counter is "
     "poorly defended. However, the fried potatoes are worthy of conquest. I will return with my army on Tuesday.",
     "Genghis Khan"),
    ("person-creative", "Write an advertisement for a time-travel tour to the Colosseum, in a cheerful tone.",
     "Step back two thousand years with Chrono Tours! Grab a seat in the stands, cheer with the crowd, and be home in "
     "time for dinner. Sandals provided, togas optional, lions kept at a very safe distance. Book now!", "Colosseum"),
    ("person-creative", "Write a rap verse about Ada Lovelace for a school talent show, keep it short.",
     "Ada with the numbers, yeah she saw it first,\nmachines that could think in a mathematical verse,\nloops on the "
     "page when the world said no,\nnow every coder in the room gives her a shout-out, yo!", "Ada Lovelace"),
    ("person-creative", "Write a short, imaginary diary entry by a sailor on the Titanic's first morning at sea.",
     "April, first morning. The sea is flat and grey and the ship is so large I got lost twice before breakfast. The "
     "passengers walk the decks in their best coats as if they were on a promenade at home. Everyone says she is the "
     "finest ship afloat. My feet hurt, but I am proud to be aboard.", "Sinking of the Titanic"),
    ("person-creative", "Write a haiku about the Great Wall of China at sunrise.",
     "Stone dragon waking\nits long back warmed by the sun\nmist in every fold", "Great Wall of China"),
    ("person-creative", "Create a short, funny job advertisement for an assistant to Sherlock Holmes.",
     "Wanted: assistant to a consulting detective. Must tolerate violin practice at 3 a.m., chemical smells and being "
     "told the obvious. Note-taking skills essential. Own revolver an advantage. Tea provided.", None),
    ("person-creative", "Write a fictional text-message conversation between Mozart and Beethoven about a concert.",
     "Mozart: You coming tonight?\nBeethoven: WHAT?\nMozart: THE CONCERT. TONIGHT.\nBeethoven: Oh. Is it mine?\n"
     "Mozart: It's mine. Front row's saved.\nBeethoven: Fine, but if it's another minuet I'm leaving at the interval.",
     "Wolfgang Amadeus Mozart"),
    # ---- rewriting and editing a given text
    ("rewrite", "Rewrite this sentence to sound more polite: 'Send me the report now.'",
     "Could you please send me the report when you have a moment?", None),
    ("rewrite", "Make this sentence more formal: 'Einstein was a super smart guy who figured out a bunch of stuff about "
     "light and time.'",
     "Einstein was a highly gifted scientist who made important discoveries about light and time.", "Albert Einstein"),
    ("rewrite", "Fix the grammar in this sentence: 'Me and him goes to the store yesterday and buyed three apple.'",
     "He and I went to the store yesterday and bought three apples.", None),
    ("rewrite", "Turn this into a bulleted list: 'For the trip we need tickets, a charger, two towels, sunscreen and "
     "snacks.'",
     "- tickets\n- a charger\n- two towels\n- sunscreen\n- snacks", None),
    ("rewrite", "Summarise this paragraph in one sentence: 'The town council met on Tuesday to discuss the new park. "
     "Residents asked for more benches and a playground. The council agreed to add both, and work will begin in "
     "spring.'",
     "After residents asked for benches and a playground, the town council agreed on Tuesday to add both to the new "
     "park, with work starting in spring.", None),
    ("rewrite", "Translate into French: 'Where is the nearest train station?'",
     "Où est la gare la plus proche ?", None),
    ("rewrite", "Shorten this sentence without losing its meaning: 'Due to the fact that it was raining very heavily, "
     "we made the decision to stay inside the house for the whole of the afternoon.'",
     "Because it was raining heavily, we stayed inside all afternoon.", None),
    ("rewrite", "Rewrite this text for a ten-year-old: 'The museum's new exhibition explores the relationship between "
     "climate and the migration patterns of birds.'",
     "The museum has a new show about how the weather and the seasons change where birds fly to.", None),
    ("rewrite", "Change this sentence from passive to active voice: 'The cake was eaten by the children.'",
     "The children ate the cake.", None),
    ("rewrite", "Paraphrase this sentence in your own words: 'Marie Curie won two Nobel Prizes in different sciences.'",
     "Marie Curie was awarded the Nobel Prize twice, each time in a different science.", "Marie Curie"),
    ("rewrite", "Make this email sound friendlier: 'Your payment is late. Pay by Friday.'",
     "Hi! Just a quick reminder that your payment is now overdue. Could you please settle it by Friday? Thanks so "
     "much, and let me know if you have any questions.", None),
    ("rewrite", "Correct the spelling in this sentence: 'I recieved the pacakge on Wensday and it was definately "
     "damaged.'",
     "I received the package on Wednesday and it was definitely damaged.", None),
    ("rewrite", "Rewrite this product review to be more concise: 'I have to say that I really, really liked this "
     "blender a lot because it is very powerful and it is also quite easy to clean after you use it.'",
     "I loved this blender: it's powerful and easy to clean.", None),
    ("rewrite", "Put these words in alphabetical order: pear, apple, mango, banana, cherry.",
     "apple, banana, cherry, mango, pear", None),
    ("rewrite", "Here is a short text about the Nile: 'The Nile flows north through eleven countries and ends in a "
     "large delta on the Mediterranean.' Rewrite it as a question-and-answer pair.",
     "Q: Where does the Nile flow, and where does it end?\nA: It flows north through eleven countries and ends in a "
     "large delta on the Mediterranean.", "Nile"),
    ("rewrite", "Rewrite this sentence in the past tense: 'She walks to school and meets her friends at the gate.'",
     "She walked to school and met her friends at the gate.", None),
    ("rewrite", "Translate into Spanish: 'I would like a table for two, please.'",
     "Quisiera una mesa para dos, por favor.", None),
    ("rewrite", "Make this headline more exciting: 'Local school holds science fair.'",
     "Young Inventors Steal the Show at Local School's Science Fair!", None),
    ("rewrite", "Rewrite this note so it fits in one short text message: 'Hi, I just wanted to let you know that I am "
     "going to be about fifteen minutes late to our meeting this afternoon because my train has been delayed.'",
     "Train delayed, running 15 min late to our meeting. Sorry!", None),
    ("rewrite", "Extract the dates from this text: 'The workshop runs from 3 March to 5 March, and the final report "
     "is due on 20 April.'",
     "3 March, 5 March, 20 April", None),
    ("rewrite", "Classify the sentiment of this review as positive, negative or neutral: 'The food was cold and the "
     "waiter ignored us for twenty minutes.'",
     "Negative.", None),
    ("rewrite", "Convert this sentence into a question: 'The library closes at eight on weekdays.'",
     "Does the library close at eight on weekdays?", None),
    ("rewrite", "Rewrite this paragraph in the first person: 'Tom opened the door, looked around the empty room and "
     "decided to wait.'",
     "I opened the door, looked around the empty room and decided to wait.", None),
    ("rewrite", "Give this paragraph a title: 'Every evening the old man fed the pigeons in the square. When he fell "
     "ill, the birds waited for him, and the children of the neighbourhood took his place until he returned.'",
     "The Pigeon Keeper", None),
    ("rewrite", "Rewrite the following sentence without using the letter 'e': 'The dog ran across the field.'",
     "A dog ran rapidly across a lawn.", None),
]
