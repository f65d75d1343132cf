"""Non-fact-seeking instructions of the FLAME set (part C: brainstormed lists, opinions, messages,
planning, games), each with a short reference response written for facttune. Rows as in other_a.py."""

OTHER_C: list[tuple[str, str, str, str | None]] = [
    # ---- brainstormed lists
    ("list", "List five names for a grey kitten.", "1. Smokey\n2. Pebble\n3. Ash\n4. Misty\n5. Earl Grey", None),
    ("list", "Give me three ideas for a cheap date night.",
     "1. A picnic in the park at sunset.\n2. Cook a new recipe together at home.\n3. A free museum evening followed "
     "by a walk.", None),
    ("list", "List four things to do on a long flight.",
     "1. Watch a film or two.\n2. Read a book you've been saving.\n3. Walk the aisle and stretch every couple of "
     "hours.\n4. Sleep with an eye mask and earplugs.", None),
    ("list", "Suggest five themes for a child's birthday party.",
     "1. Pirates\n2. Space explorers\n3. Dinosaurs\n4. Under the sea\n5. Superheroes", None),
    ("list", "Give me a packing list for a beach day.",
     "- towel\n- sunscreen\n- hat and sunglasses\n- swimsuit\n- water and snacks\n- a book\n- a bag for wet things",
     None),
    ("list", "List three gift ideas for someone who loves cooking.",
     "1. A good chef's knife.\n2. A cookbook from a cuisine they haven't tried.\n3. A set of small spice jars.",
     None),
    ("list", "Brainstorm five names for a coffee shop run by two sisters.",
     "1. Two Sisters Coffee\n2. Sister Brew\n3. The Sibling Cup\n4. Bean Twins\n5. Kin & Crema", None),
    ("list", "Give me four icebreaker questions for a team meeting.",
     "1. What was the best thing you ate this week?\n2. If you could learn any skill instantly, what would it be?\n"
     "3. What's a small thing that made you smile recently?\n4. What was your first job?", None),
    ("list", "List five healthy snacks I can take to work.",
     "1. An apple with peanut butter\n2. A handful of almonds\n3. Carrot sticks and hummus\n4. Plain yogurt with "
     "berries\n5. A boiled egg", None),
    ("list", "Suggest three hobbies I could start with less than $20.",
     "1. Sketching with a pencil and a notebook.\n2. Running or walking with a free training app.\n3. Learning card "
     "tricks with one deck of cards.", None),
    ("list", "Give me five words that rhyme with 'light'.", "bright, night, kite, fight, white", None),
    ("list", "List three questions I should ask when viewing a flat to rent.",
     "1. What is included in the rent (bills, internet)?\n2. How long is the contract, and can I leave early?\n"
     "3. Have there been any problems with damp, heating or noise?", None),
    ("list", "Give me three ideas for a science fair project for a twelve-year-old.",
     "1. Which material keeps ice frozen the longest?\n2. Do plants grow better with music?\n3. How does the angle of "
     "a ramp change how far a toy car rolls?", None),
    ("list", "List five verbs that describe how someone might walk.", "stroll, stride, shuffle, tiptoe, march", None),
    ("list", "Suggest four names for a fantasy kingdom.", "1. Elmaris\n2. Thornvale\n3. Caer Lumen\n4. Ostrovane",
     None),
    ("list", "Give me three easy dinner ideas using eggs.",
     "1. A vegetable omelette.\n2. Fried rice with scrambled egg.\n3. Shakshuka: eggs poached in tomato sauce.", None),
    ("list", "List four ways to reuse glass jars.",
     "1. Store dry food such as rice or pasta.\n2. Use them as drinking glasses.\n3. Make small candle holders.\n"
     "4. Keep pens or brushes on a desk.", None),
    ("list", "Brainstorm three plot twists for a detective story.",
     "1. The detective's partner committed the crime.\n2. The victim faked their own death.\n3. The only witness was "
     "describing a dream.", None),
    # ---- opinions and preferences
    ("opinion", "Which is better for a first pet, a cat or a dog? Give your opinion in two sentences.",
     "For a busy first-time owner I'd suggest a cat, since cats need less training and can be left alone for a "
     "working day. If you have time for walks and training every day, though, a dog can be a wonderful companion.",
     None),
    ("opinion", "Do you think it's better to read books on paper or on an e-reader? Explain your view briefly.",
     "I'd lean towards paper for reading at home, because it is easier on the eyes and easier to flip back through. "
     "An e-reader wins for travel, since it holds hundreds of books and weighs almost nothing.", None),
    ("opinion", "Is it worth learning to cook if I can afford takeaway? Give me your honest opinion.",
     "Yes. Cooking saves money over time, lets you control what you eat, and is a skill that makes you more "
     "independent; even a handful of simple recipes is worth it.", None),
    ("opinion", "What's your opinion: should homework be banned in primary schools?",
     "I don't think it should be banned outright, but it should be short and purposeful, such as reading together "
     "at home, so that young children still have time to play and rest.", None),
    ("opinion", "Which season do you think is the best for a holiday, and why?",
     "I'd pick late spring: the weather is mild, days are long, and popular places are less crowded and cheaper than "
     "in summer.", None),
    ("opinion", "Is it rude to check your phone during dinner with friends? What do you think?",
     "Mostly yes: it tells the people in front of you that something else matters more. A quick glance for something "
     "urgent is fine if you say so.", None),
    ("opinion", "Would you rather live in the city or the countryside? Give one reason.",
     "The countryside, for the quiet and the space, though I'd want a good train line to the city.", None),
    ("opinion", "Rate the idea of a four-day working week from 1 to 10 and explain your score in one sentence.",
     "8 out of 10: many people get as much done with more rest, though it is hard to apply to every job.", None),
    # ---- messages, plans and everyday writing
    ("message", "Write a short email to my landlord saying the kitchen tap is leaking.",
     "Subject: Leaking kitchen tap\n\nHello Mr Evans,\n\nThe kitchen tap in my flat has started leaking and drips "
     "constantly even when fully closed. Could you arrange for someone to fix it this week? I am home most "
     "afternoons.\n\nThank you,\nAnna", None),
    ("message", "Write a text message cancelling a dentist appointment for tomorrow.",
     "Hello, this is Jamie Clarke. I'm sorry, but I need to cancel my appointment tomorrow at 10. Could I rebook for "
     "next week? Thank you.", None),
    ("message", "Write a short out-of-office reply for when I'm on holiday until Monday.",
     "Thank you for your email. I am on holiday and will be back on Monday, when I'll reply as soon as I can. For "
     "anything urgent, please contact my colleague at team@example.com.", None),
    ("message", "Write a two-sentence apology to a customer whose order arrived late.",
     "We are very sorry that your order arrived later than promised. We have refunded your delivery fee and hope "
     "you'll give us another chance.", None),
    ("message", "Write an invitation to a neighbourhood picnic on Saturday at noon in the park.",
     "You're invited! Join your neighbours for a picnic this Saturday at noon in the park. Bring a dish to share and a "
     "blanket; we'll bring drinks and games. See you there!", None),
    ("message", "Write a short LinkedIn post announcing that I've started a new job as a nurse.",
     "I'm happy to share that I've started a new position as a nurse at City General Hospital. Grateful to everyone "
     "who supported me during my training, and excited for this next chapter!", None),
    ("message", "Write a reminder message to my team about the deadline on Friday.",
     "Hi all, a quick reminder that the project deadline is this Friday at 5 pm. Please share your final drafts by "
     "Thursday evening so we have time to review. Thanks!", None),
    ("message", "Write a short review of a pizza place I liked, for a review website.",
     "Great little pizza place! The crust was thin and crispy, the toppings were fresh, and the staff were friendly. "
     "Prices are fair and the pizza arrived fast. Four and a half stars, I'll be back.", None),
    ("plan", "Make a simple three-day meal plan for a vegetarian.",
     "Day 1: oatmeal with fruit; lentil soup; vegetable stir-fry with tofu.\nDay 2: yogurt and granola; hummus and "
     "salad wrap; pasta with tomato and spinach.\nDay 3: scrambled eggs on toast; bean and rice bowl; vegetable "
     "curry with chickpeas.", None),
    ("plan", "Create a morning routine that takes no more than 30 minutes.",
     "5 min: drink a glass of water and make the bed.\n10 min: shower and dress.\n10 min: simple breakfast.\n"
     "5 min: check the day's plan and pack your bag.", None),
    ("plan", "Plan a one-hour workout with no equipment.",
     "10 min warm-up (marching, arm circles); 40 min of four rounds of squats, push-ups, lunges, plank and jumping "
     "jacks, 1 minute each with 1 minute rest between rounds; 10 min stretching.", None),
    ("plan", "Give me a study schedule for a week before an exam, two hours a day.",
     "Mon–Thu: one hour on a new topic, one hour of practice questions on it. Fri: review all notes. Sat: a full "
     "practice exam under timed conditions. Sun: go over the mistakes from Saturday and rest early.", None),
    ("plan", "Outline a short agenda for a 30-minute team meeting.",
     "1. Welcome and goals (2 min)\n2. Updates from each person (12 min)\n3. Main discussion topic (10 min)\n"
     "4. Decisions and next steps (4 min)\n5. Questions (2 min)", None),
    ("plan", "Plan a budget-friendly weekend in a city I've never visited, without naming a specific city.",
     "Saturday: a free walking tour in the morning, a picnic lunch from a local market, free museums in the "
     "afternoon. Sunday: explore a park or viewpoint, try a cheap local dish for lunch, and spend the afternoon in a "
     "neighbourhood known for its street life.", None),
    # ---- games, jokes and role play
    ("play", "Tell me a joke about computers.",
     "Why did the computer go to the doctor? Because it had a virus and couldn't stop byte-ing its nails.", None),
    ("play", "Tell me a clean joke suitable for kids.",
     "What do you call a sleeping dinosaur? A dino-snore!", None),
    ("play", "Let's play a word game: give me a word that starts with the last letter of 'apple'.",
     "Elephant.", None),
    ("play", "Pretend you are a tour guide in a museum of everyday objects and introduce the spoon.",
     "Ladies and gentlemen, before you stands one of humanity's quiet heroes: the spoon. It has served soup, stirred "
     "tea and rescued the last bit of yogurt for generations, asking nothing in return. Please, no touching.", None),
    ("play", "Act as a friendly robot and greet me in one sentence.",
     "Beep boop, hello friend, my circuits are very happy to meet you!", None),
    ("play", "Give me a fun 'would you rather' question.",
     "Would you rather be able to talk to animals or speak every human language?", None),
    ("play", "Make up a tongue twister about a baker.",
     "Brave Betty the baker baked big brown buns before breakfast.", None),
    ("play", "Write a short pun about cheese.", "I didn't trust the cheese at first, but it turned out to be grate.",
     None),
    ("play", "Pretend you're a weather reporter describing a day where it rains pancakes.",
     "Good morning! Expect heavy pancake showers from nine until noon, with occasional bursts of syrup in the east. "
     "Bring an umbrella and a plate, and watch out for butter on the roads.", None),
    ("play", "Give me a riddle and its answer.",
     "Riddle: What has keys but can't open locks?\nAnswer: A piano.", None),
    # ---- sorting, choosing and explaining given material
    ("other", "Sort these animals into mammals and birds: eagle, dolphin, sparrow, bat, owl, horse.",
     "Mammals: dolphin, bat, horse.\nBirds: eagle, sparrow, owl.", None),
    ("other", "Which of these words is the odd one out: red, blue, green, chair? Explain in one sentence.",
     "Chair is the odd one out, because the others are colours.", None),
    ("other", "Help me choose a name for my blog about budget travel: give three options with one line each.",
     "1. Pocket Passport: travel tips for a light wallet.\n2. Far for Less: proof that big trips need small budgets.\n"
     "3. The Thrifty Nomad: stories and savings from the road.", None),
    ("other", "Give feedback on this opening line of my essay: 'Since the dawn of time, people have liked food.'",
     "It's too broad and a bit of a cliché. Try opening with something specific, such as a vivid moment or a "
     "surprising fact you will discuss, so the reader knows what the essay is about.", None),
    ("other", "Write three multiple-choice answer options for the question 'What colour do you get by mixing blue and "
     "yellow?', with the correct one marked.",
     "A) Purple\nB) Green (correct)\nC) Orange", None),
    ("other", "Turn this recipe step into simple instructions for a child: 'Whisk the eggs vigorously until "
     "homogeneous.'",
     "Stir the eggs fast with a fork until they are all the same yellow colour.", None),
    ("other", "I have tomatoes, pasta, garlic and cheese. What could I cook tonight?",
     "Make a simple tomato and garlic pasta: soften sliced garlic in oil, add chopped tomatoes and cook for ten "
     "minutes, toss with the cooked pasta and finish with grated cheese.", None),
    ("other", "Explain the rules of rock-paper-scissors in three sentences.",
     "Two players each choose rock, paper or scissors and show their choice at the same time. Rock beats scissors, "
     "scissors beat paper, and paper beats rock. If both choose the same, it's a tie and you play again.", None),
    ("other", "Describe your ideal weekend in three sentences.",
     "I'd start Saturday with a slow breakfast and a long walk somewhere green. In the afternoon I'd read or cook "
     "something new, and in the evening see friends. Sunday would be for sleeping in and doing absolutely nothing "
     "urgent.", None),
    ("other", "Write a short bio for my dating profile: I'm 29, I like hiking, board games and baking bread.",
     "29, happiest on a mountain trail or across a board game table. I bake bread on Sundays and will probably share "
     "it with you. Looking for someone who likes long walks and friendly competition.", None),
    ("other", "Give me a name and a short description for a new board game about building bridges.",
     "Span: players race to connect islands with bridges, trading wood, stone and rope, while storms wash away "
     "anything built too quickly.", None),
    ("other", "How would you explain the word 'nostalgia' to a child, without looking it up?",
     "Nostalgia is the warm, slightly sad feeling you get when you remember happy times from before, like a birthday "
     "you loved, and wish you could visit them again.", None),
    ("other", "Write a short, encouraging comment on a friend's first painting.",
     "This is lovely! The colours in the sky are beautiful and you can really feel the evening light. Can't believe "
     "it's your first one, keep going!", None),
    ("other", "Write a catchy title for a blog post about decluttering your desk.",
     "Clear Desk, Clear Mind: Ten Minutes to a Tidier Workspace", None),
    ("other", "Suggest a good question to ask at the end of a job interview.",
     "'What would success look like in this role after the first six months?'", None),
    ("other", "My flatmate and I can't agree on how to split chores. Suggest a fair system.",
     "List every chore with how often it is needed, split them into two lists of roughly equal time, and swap lists "
     "every week so nobody is stuck with the worst jobs.", None),
]
