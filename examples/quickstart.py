import genpipe as gp

rejected = gp.DeadLetters()
totals = (
    gp.source(["3", "1", "oops", "4", "1", "5"])
    | gp.map(int, on_error=rejected)  # a failing item goes to `rejected`
    | gp.distinct()
    | gp.batch(2)
    | gp.map(sum)
    | gp.to_list()
)
print(totals)  # [4, 9]
print([letter.item for letter in rejected])  # ['oops']
