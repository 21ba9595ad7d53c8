# Grading prompts in prometheus-eval's prompts.py format, written for these tests.
ABS_SYSTEM_PROMPT = "You are a strict, fair grader who gives concrete feedback on a fixed rubric."
REL_SYSTEM_PROMPT = "You are a strict, fair grader who compares two responses on a fixed rubric."


ABSOLUTE_PROMPT = """###Task Description:
You get an instruction, a response to grade, a reference answer that would score 5, and a rubric.
1. Write feedback on the response, judged only by the rubric.
2. Then give an integer score from 1 to 5, following the rubric.
3. Use this output format: "(feedback on the criterion) [RESULT] (an integer from 1 to 5)"
4. Write nothing else.

###The instruction to evaluate:
{instruction}

###Response to evaluate:
{response}

###Reference Answer (Score 5):
{reference_answer}

###Score Rubrics:
{rubric}

###Feedback: """


ABSOLUTE_PROMPT_WO_REF = """###Task Description:
You get an instruction, a response to grade, and a rubric.
1. Write feedback on the response, judged only by the rubric.
2. Then give an integer score from 1 to 5, following the rubric.
3. Use this output format: "(feedback on the criterion) [RESULT] (an integer from 1 to 5)"
4. Write nothing else.

###The instruction to evaluate:
{instruction}

###Response to evaluate:
{response}

###Score Rubrics:
{rubric}

###Feedback: """


RELATIVE_PROMPT_WO_REF = """###Task Description:
You get an instruction, two responses, and a rubric.
1. Write feedback comparing the two responses, judged only by the rubric.
2. Then name the better response, A or B.
3. Use this output format: "(feedback on the criterion) [RESULT] (A or B)"
4. Write nothing else.

###Instruction:
{instruction}

###Response A:
{response_A}

###Response B:
{response_B}

###Score Rubric:
{rubric}

###Feedback: """


CLARITY_RUBRIC = """
[Is the response clear and easy to follow?]
Score 1: The response cannot be followed.
Score 2: The response is hard to follow in most places.
Score 3: The response is clear in parts.
Score 4: The response is clear, with a rough spot or two.
Score 5: The response is clear throughout.
""".strip()


def not_a_prompt():
    return "ignored"
