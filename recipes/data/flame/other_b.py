"""Non-fact-seeking instructions of the FLAME set (part B: advice, code, math), each with a short
reference response written for facttune. Rows as in other_a.py."""

OTHER_B: list[tuple[str, str, str, str | None]] = [
    # ---- advice
    ("advice", "Give me three tips for falling asleep faster.",
     "1. Keep the same bedtime every night, weekends included.\n2. Put your phone away half an hour before bed.\n"
     "3. Keep the bedroom cool, dark and quiet.", None),
    ("advice", "How can I stay focused while studying at home?",
     "Study in one fixed spot, put your phone in another room, and work in blocks of about 25 minutes with a "
     "five-minute break after each. Decide before you start exactly what you will finish in that session.", None),
    ("advice", "What should I say in the first minute of a job interview?",
     "Greet the interviewer warmly, thank them for their time, and give a short answer to 'tell me about yourself': "
     "who you are professionally, one or two achievements relevant to the role, and why you want this job.", None),
    ("advice", "My friend forgot my birthday and I feel hurt. How should I bring it up?",
     "Tell them calmly and without blame, for example: 'I was a bit sad you missed my birthday, it matters to me.' "
     "Give them a chance to explain; most people forget by accident, and saying how you feel usually clears the air.",
     None),
    ("advice", "Give me a simple plan to start running if I have never run before.",
     "Three times a week for eight weeks: start with 1 minute of running and 2 minutes of walking, repeated 8 times. "
     "Each week run a little longer and walk a little less, until you can run 20 to 30 minutes without stopping. "
     "Rest a day between runs.", None),
    ("advice", "How do I politely decline an invitation to a party?",
     "Thank the host, say you can't make it, and wish them a good time: 'Thanks so much for inviting me! I can't come "
     "this time, but I hope it's a great party.' You don't need to give a long excuse.", None),
    ("advice", "What are some ways to save money on groceries?",
     "Plan meals for the week and shop with a list, buy store brands, compare the price per kilo, cook larger batches "
     "and freeze portions, and avoid shopping when you are hungry.", None),
    ("advice", "I have a presentation tomorrow and I'm nervous. Any advice?",
     "Rehearse it out loud twice tonight, ideally standing up. Know your first two sentences by heart so you start "
     "strong. Get a good night's sleep, breathe slowly before you begin, and remember that the audience wants you to "
     "do well.", None),
    ("advice", "How should I organise a small closet so it feels less cluttered?",
     "Take everything out, give away what you haven't worn in a year, use matching slim hangers, group clothes by "
     "type, and put rarely used items in labelled boxes on the top shelf.", None),
    ("advice", "What's a good way to learn vocabulary in a new language?",
     "Learn words in short phrases rather than alone, review them with spaced-repetition flashcards every day, and use "
     "new words in your own sentences as soon as you can.", None),
    ("advice", "Give me two tips for writing a clear email.",
     "1. Put the main point or request in the first sentence.\n2. Keep it short, with one topic per email and a "
     "subject line that says what it is about.", None),
    ("advice", "How can I be a better listener?",
     "Put your phone away, let the other person finish before you answer, ask follow-up questions, and briefly repeat "
     "back what you heard to check that you understood.", None),
    ("advice", "How do I keep my houseplants alive when I travel for a week?",
     "Water them well just before you leave, move them away from direct sun, group them together to keep humidity up, "
     "and for thirsty plants use a water bottle pushed upside down into the soil or ask a neighbour to check once.",
     None),
    ("advice", "My teenage son spends too much time on video games. How can I talk to him about it?",
     "Pick a calm moment, show interest in what he plays, and then agree on limits together rather than imposing "
     "them. Explain your reasons, keep the rules clear and consistent, and help him find other activities he enjoys.",
     None),
    ("advice", "What should I pack for a weekend hiking trip?",
     "Comfortable boots, layers including a waterproof jacket, a map, water and snacks, a small first-aid kit, "
     "sunscreen, a head torch, and a charged phone.", None),
    ("advice", "How can I make my small apartment feel bigger?",
     "Use light colours, hang a large mirror opposite a window, choose furniture with legs, keep surfaces clear, and "
     "use vertical storage such as tall shelves.", None),
    ("advice", "Suggest a weekly routine to keep a kitchen clean without much effort.",
     "Daily: wash up after dinner and wipe the counters. Twice a week: empty the bin and wipe the stove. Weekly: clean "
     "the sink, mop the floor and throw out old food from the fridge.", None),
    ("advice", "How do I ask my manager for a raise?",
     "Book a short meeting, come with a list of your results and extra responsibilities, mention what similar roles "
     "pay, state the figure you are asking for, and stay calm and open to discussing a plan if the answer is not yes "
     "straight away.", None),
    ("advice", "What can I do on a rainy Sunday with two young kids?",
     "Build a blanket fort, bake simple cookies together, have an indoor treasure hunt, do a puppet show with socks, "
     "or put on music and have a dance party.", None),
    ("advice", "I keep procrastinating on a big project. What should I do?",
     "Break the project into small tasks you can finish in under an hour, pick the easiest one and start it now for "
     "just ten minutes, and set small deadlines with someone who will check on you.", None),
    ("advice", "What's a polite way to ask a noisy neighbour to keep it down?",
     "Knock at a calm time, introduce yourself, and say something like: 'Sorry to bother you, the music carries into "
     "my flat late at night. Could you keep it lower after ten?' Most people are happy to help when asked kindly.",
     None),
    ("advice", "How do I start a vegetable garden on a balcony?",
     "Pick a few easy crops such as cherry tomatoes, lettuce and herbs, use large pots with drainage holes and good "
     "potting soil, place them where they get at least six hours of sun, and water regularly.", None),
    # ---- code
    ("code", "Write a Python function that reverses a string.",
     "def reverse(s: str) -> str:\n    return s[::-1]", None),
    ("code", "Write a Python function that returns True if a number is even.",
     "def is_even(n: int) -> bool:\n    return n % 2 == 0", None),
    ("code", "Write a SQL query that selects all customers from the table customers whose city is 'Oslo'.",
     "SELECT * FROM customers WHERE city = 'Oslo';", None),
    ("code", "Write a JavaScript function that adds two numbers.",
     "function add(a, b) {\n  return a + b;\n}", None),
    ("code", "Write a bash command that counts the lines in the file data.txt.",
     "wc -l data.txt", None),
    ("code", "Write a Python function that returns the largest number in a list.",
     "def largest(numbers: list[float]) -> float:\n    return max(numbers)", None),
    ("code", "Write a regular expression that matches a five-digit number.",
     "^\\d{5}$", None),
    ("code", "Write a Python loop that prints the numbers 1 to 10.",
     "for i in range(1, 11):\n    print(i)", None),
    ("code", "Write a Python function that counts the vowels in a string.",
     "def count_vowels(text: str) -> int:\n    return sum(1 for ch in text.lower() if ch in 'aeiou')", None),
    ("code", "Write an HTML snippet for a button that says 'Sign up'.",
     "<button type=\"button\">Sign up</button>", None),
    ("code", "Explain what this Python code does: `print(sum(range(5)))`",
     "It adds up the numbers 0, 1, 2, 3 and 4 and prints the result, 10.", None),
    ("code", "Write a Python function that checks whether a word is a palindrome.",
     "def is_palindrome(word: str) -> bool:\n    w = word.lower()\n    return w == w[::-1]", None),
    ("code", "Write a CSS rule that makes all paragraphs blue.",
     "p {\n  color: blue;\n}", None),
    ("code", "Find the bug in this Python code: `def square(x): return x * 2`",
     "The function doubles x instead of squaring it. It should be `return x * x` (or `x ** 2`).", None),
    ("code", "Write a Python list comprehension that squares every number in the list nums.",
     "squares = [n * n for n in nums]", None),
    ("code", "Write a Python function that converts Celsius to Fahrenheit.",
     "def c_to_f(celsius: float) -> float:\n    return celsius * 9 / 5 + 32", None),
    ("code", "Write a git command to create a new branch called feature-login and switch to it.",
     "git switch -c feature-login", None),
    ("code", "Write a Python function that removes duplicates from a list while keeping the order.",
     "def dedupe(items: list) -> list:\n    return list(dict.fromkeys(items))", None),
    ("code", "Write a JSON object describing a book with a title, an author and a year.",
     "{\"title\": \"The Quiet Harbour\", \"author\": \"Lena Moss\", \"year\": 2019}", None),
    ("code", "Write a Python function that returns the factorial of n.",
     "def factorial(n: int) -> int:\n    result = 1\n    for k in range(2, n + 1):\n        result *= k\n"
     "    return result", None),
    ("code", "What does the Python expression `len('hello')` return?",
     "It returns 5, the number of characters in 'hello'.", None),
    # ---- math
    ("math", "What is 15% of 240?", "15% of 240 is 36 (0.15 × 240 = 36).", None),
    ("math", "Solve for x: 3x + 7 = 22.", "3x = 15, so x = 5.", None),
    ("math", "A shirt costs $40 and is on sale for 25% off. What is the sale price?",
     "25% of 40 is 10, so the sale price is $30.", None),
    ("math", "What is 144 divided by 12?", "144 ÷ 12 = 12.", None),
    ("math", "If a train travels 180 km in 2 hours, what is its average speed?",
     "180 km ÷ 2 h = 90 km per hour.", None),
    ("math", "What is the area of a rectangle 8 cm long and 5 cm wide?", "8 × 5 = 40 square centimetres.", None),
    ("math", "Add these numbers: 17, 25 and 58.", "17 + 25 + 58 = 100.", None),
    ("math", "I have 3 boxes with 12 eggs each and I break 5 eggs. How many are left?",
     "3 × 12 = 36 eggs, and 36 − 5 = 31 eggs are left.", None),
    ("math", "What is the next number in the sequence 2, 4, 8, 16, ...?",
     "32: each number is double the one before.", None),
    ("math", "Convert 3.5 hours into minutes.", "3.5 × 60 = 210 minutes.", None),
    ("math", "What is the average of 4, 8, 10 and 14?", "(4 + 8 + 10 + 14) ÷ 4 = 36 ÷ 4 = 9.", None),
    ("math", "Simplify the fraction 18/24.", "18/24 = 3/4 (dividing both by 6).", None),
    ("math", "If I save $25 a week, how much will I have saved after a year?",
     "A year has 52 weeks, so 52 × $25 = $1,300.", None),
    ("math", "What is 7 squared minus 9?", "7² = 49, and 49 − 9 = 40.", None),
    ("math", "A recipe needs 300 g of flour for 4 people. How much flour do I need for 6 people?",
     "300 g ÷ 4 = 75 g per person, so 6 × 75 g = 450 g.", None),
    ("math", "Is 91 a prime number? Explain briefly.", "No: 91 = 7 × 13.", None),
    ("math", "What is the perimeter of a square with sides of 9 metres?", "4 × 9 = 36 metres.", None),
    ("math", "Round 3.14159 to two decimal places.", "3.14", None),
]
